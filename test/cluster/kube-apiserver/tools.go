//go:build tools

// Package tools records the programs this module exists to build, so that
// `go mod tidy` keeps their dependencies. It is never compiled: the build tag
// keeps it out of every normal build. ../build.sh runs
// `go build k8s.io/kubernetes/cmd/kube-apiserver`,
// `go build k8s.io/kubernetes/cmd/kube-controller-manager` and
// `go build k8s.io/kubernetes/cmd/kubectl` in this directory.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)

//go:build tools

// Package tools records the one program this module exists to build, so that
// `go mod tidy` keeps its dependencies. It is never compiled: the build tag
// keeps it out of every normal build. ../build.sh runs
// `go build go.etcd.io/etcd/server/v3` in this directory (the module root of
// go.etcd.io/etcd/server/v3 is etcd's main package).
package tools

import _ "go.etcd.io/etcd/server/v3"

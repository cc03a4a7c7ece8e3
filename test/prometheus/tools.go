//go:build tools

// Package tools records the one program this module exists to build, so that
// `go mod tidy` keeps its dependencies. It is never compiled: the build tag
// keeps it out of every normal build. ./build.sh runs
// `go build github.com/prometheus/prometheus/cmd/promtool` in this directory.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"

//go:build !linux || !(amd64 || arm64)

package nonet

import "errors"

var errNoFilter = errors.New("only Linux on amd64 and arm64 can filter a thread's system calls here")

func restrictThread() error { return errNoFilter }

func restrictProcess() error { return errNoFilter }

//go:build !linux

package main

// adviseHugePages does nothing where the advice is Linux's alone.
func adviseHugePages(int) uintptr { return 0 }

//go:build !race

package analyzer_test

const raceDetector = false

//go:build race

package analyzer_test

// raceDetector is set when the tests run with -race, which slows the
// analysis several times: timing checks are left to the plain run.
const raceDetector = true

package greet

// Hello returns the greeting the service answers with.
func Hello(name string) string { return "hello " + name }

// A module of its own so that `go test ./...` in the dockopt module never
// builds this rehearsal-only helper.
module dockopt.rehearse/pause

go 1.26

package templates_test

import "io/fs"

type fsFS = fs.FS

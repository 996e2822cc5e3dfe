package analyzer

import "testing"

// MinIO's --address names host:port; only a port other than 9000 moves
// the S3 API off its default, whatever the host, IPv6 included.
func TestMinioAddress(t *testing.T) {
	for _, tc := range []struct {
		words []string
		moved bool
	}{
		{[]string{"minio", "server", "/data"}, false},
		{[]string{"minio", "server", "/data", "--address", ":9100"}, true},
		{[]string{"minio", "server", "/data", "--address=:9000"}, false},
		{[]string{"minio", "server", "/data", "--address", "[::]:9000"}, false},
		{[]string{"minio", "server", "/data", "--address", "[::]:9100"}, true},
		{[]string{"minio", "server", "/data", "--address", "127.0.0.1:9000"}, false},
	} {
		if _, moved := minioAddress(tc.words); moved != tc.moved {
			t.Errorf("minioAddress(%q) moved = %v, want %v", tc.words, moved, tc.moved)
		}
	}
}

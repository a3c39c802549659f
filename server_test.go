package main

import (
	"net"
	"slices"
	"testing"
)

func TestServerNames(t *testing.T) {
	lan := []net.IP{net.ParseIP("192.168.1.5"), net.ParseIP("fd00::5")}
	for _, c := range []struct {
		name, public, listen string
		want                 []string
	}{
		{"Loopback", "http://127.0.0.1:7143", "127.0.0.1:7143",
			[]string{"127.0.0.1:7143", "localhost:7143", "[::1]:7143"}},
		{"Localhost", "http://localhost:7143", "localhost:7143",
			[]string{"localhost:7143", "127.0.0.1:7143", "[::1]:7143"}},
		{"EveryInterface", "http://192.168.1.5:7143", "0.0.0.0:7143",
			[]string{"192.168.1.5:7143", "localhost:7143", "127.0.0.1:7143", "[::1]:7143", "[fd00::5]:7143", "laptop:7143"}},
		{"EveryInterfaceIPv6", "https://secrets.example", "[::]:443",
			[]string{"secrets.example", "localhost:443", "127.0.0.1:443", "[::1]:443", "192.168.1.5:443", "[fd00::5]:443", "laptop:443"}},
		{"OneAddressBehindProxy", "https://secrets.example", "10.0.0.7:7143",
			[]string{"secrets.example", "10.0.0.7:7143"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := serverNames(c.public, c.listen, lan, "laptop"); !slices.Equal(got, c.want) {
				t.Errorf("serverNames(%q, %q) = %q; want %q", c.public, c.listen, got, c.want)
			}
		})
	}
}

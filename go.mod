module github.com/gatehouse/gatehouse

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/oklog/ulid/v2 v2.1.2
	github.com/tidwall/gjson v1.20.1
	github.com/valyala/fasthttp v1.77.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/molecule-man/go-brrr v1.3.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/tools v0.36.0 // indirect
)

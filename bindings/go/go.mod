module example.org/libkasko/bindings/go

go 1.19

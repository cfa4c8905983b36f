module example.org/libkasko/kasko

go 1.19

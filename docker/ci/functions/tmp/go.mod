module example.com/minifaas-smoke-tmp

go 1.19

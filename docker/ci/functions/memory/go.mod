module example.com/minifaas-smoke-memory

go 1.19

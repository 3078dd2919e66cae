module example.com/minifaas-smoke-network

go 1.19

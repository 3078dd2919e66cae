module example.com/minifaas-smoke

go 1.19

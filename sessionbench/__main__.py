from sessionbench.bench.cli import main

main()

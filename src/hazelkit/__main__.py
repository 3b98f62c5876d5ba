from hazelkit.cli import main

main()

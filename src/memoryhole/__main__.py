from memoryhole.cli import main

main()

"""Exit codes: the part of the spawn contract that tells the master why a worker died."""

EXIT_OK, EXIT_USAGE, EXIT_BOOT_FAILURE, EXIT_APP_IMPORT_FAILURE, EXIT_MASTER_GONE = 0, 2, 3, 4, 5
EXIT_FOR_KIND = {'import': 4, 'callable': 4, 'check': 4, 'chdir': 3, 'config': 3, 'privileges': 3, 'channel': 3}

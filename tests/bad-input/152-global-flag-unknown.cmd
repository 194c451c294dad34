# An unknown flag before the command.
--bogus get pods

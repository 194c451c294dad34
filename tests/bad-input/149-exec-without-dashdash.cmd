# exec without -- before the command.
exec coredns cat /etc/resolv.conf

# snapshot restore of a device that never ends (/dev/zero): refused before reading.
snapshot restore /dev/zero

# wait with a unit netsim does not know.
wait 30x

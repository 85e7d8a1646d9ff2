"""Pure protocol logic: no sockets, no sound cards, no terminals."""

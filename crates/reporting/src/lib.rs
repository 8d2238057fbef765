//! Reporting: queue depth, waits, SLAs and message volumes over time, per tenant. It
//! will stand above messaging and the desk and read their events through the durable
//! path, which may lag, counting each once. Empty until the issue that builds it; it is
//! in the workspace so that its place in the map is fixed before its code arrives.

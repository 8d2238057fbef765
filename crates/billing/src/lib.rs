//! Billing: what each tenant's messages cost, as Meta prices them, and the credits that
//! pay for them. It will stand above messaging and read its events through the durable
//! path, which may lag: a projection that counts each event once, never in the worker's
//! way. Empty until the issue that builds it; it is in the workspace so that its place
//! in the map is fixed before its code arrives.

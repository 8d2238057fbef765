//! Automation: bot flows, the knowledge base and AI assistance, each acting on a
//! conversation only while it owns it. It will stand above messaging (it answers
//! through the send path and reads the events of the inbound worker as an in-process
//! subscriber, in the contact's order) and beside the desk, to which a flow hands a
//! conversation over. Empty until the issue that builds it; it is in the workspace so
//! that its place in the map is fixed before its code arrives.

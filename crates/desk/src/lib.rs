//! The contact center's desk: the people of a tenant (agents, managers, admins) with
//! their sessions, teams, queues with business hours, and assignment that gives one
//! conversation to one agent. It will stand above messaging, whose domain events (a
//! message received, a conversation opened) drive assignment as an in-process
//! subscriber, and on access, whose principals its people become; compliance stands
//! above it, since erasing a person walks what the desk holds about them. Empty until
//! the issue that builds it; it is in the workspace so that its place in the map is
//! fixed before its code arrives.

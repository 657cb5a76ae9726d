// Presence: the ephemeral state of each peer in each room, held in memory by the Backend and never
// written to the store. Sets are coalesced per peer: a peer's state goes to the others at most once
// per `presenceIntervalMs`, and the latest state always goes out.
import type { Json } from '@statecraft/core'
import type { PresencePeer, PresenceUpdateMessage } from '@statecraft/protocol'

/** One connection in one room. */
export interface PresenceMember {
  readonly peer: string
  readonly room: string
  /** The peer's latest state (null: none; the others do not list it). */
  state: Json | null
  /** When its state last went to the others (ms). */
  lastSent: number
  /** A coalesced send is due. */
  timer: ReturnType<typeof setTimeout> | undefined
  /** The others were last told of a non-null state. */
  shown: boolean
  /** Delivers a message to this member's connection. */
  readonly send: (msg: PresenceUpdateMessage) => void
}

export class PresenceRooms {
  private readonly rooms = new Map<string, Set<PresenceMember>>()

  constructor(private readonly intervalMs: () => number) {}

  /** Rooms with someone in them, and members summed over rooms. */
  stats(): { rooms: number; members: number } {
    let members = 0
    for (const r of this.rooms.values()) members += r.size
    return { rooms: this.rooms.size, members }
  }

  /**
   * Adds a member and returns the others' states (those that have one). Its own state, when it has
   * one, goes to the others at once.
   */
  join(room: string, peer: string, state: Json | null, send: (msg: PresenceUpdateMessage) => void): { member: PresenceMember; peers: PresencePeer[] } {
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Set()
      this.rooms.set(room, members)
    }
    const peers: PresencePeer[] = []
    for (const m of members) if (m.state !== null) peers.push({ peer: m.peer, state: m.state })
    const member: PresenceMember = { peer, room, state, lastSent: -Infinity, timer: undefined, shown: false, send }
    members.add(member)
    if (state !== null) this.broadcast(member)
    return { member, peers }
  }

  /** A new state for `member`: sent now, or when its interval is over (with whatever is latest then). */
  set(member: PresenceMember, state: Json | null): void {
    member.state = state
    if (member.timer !== undefined) return
    const wait = member.lastSent + this.intervalMs() - Date.now()
    if (wait <= 0) {
      this.broadcast(member)
      return
    }
    member.timer = setTimeout(() => {
      member.timer = undefined
      this.broadcast(member)
    }, wait)
    member.timer.unref?.()
  }

  /** Removes a member; the others are told it left (null) unless they never saw a state of it. */
  leave(member: PresenceMember): void {
    if (member.timer !== undefined) clearTimeout(member.timer)
    member.timer = undefined
    const members = this.rooms.get(member.room)
    if (members === undefined || !members.delete(member)) return
    if (members.size === 0) {
      this.rooms.delete(member.room)
      return
    }
    // A state still waiting for its interval may have reached a newcomer in its snapshot.
    if (member.shown || member.state !== null) this.sendToOthers(members, member, null)
    member.state = null
  }

  private broadcast(member: PresenceMember): void {
    const members = this.rooms.get(member.room)
    if (members === undefined || !members.has(member)) return
    member.lastSent = Date.now()
    // Nothing to say when the others never saw a state and there still is none.
    if (member.state === null && !member.shown) return
    member.shown = member.state !== null
    this.sendToOthers(members, member, member.state)
  }

  private sendToOthers(members: Set<PresenceMember>, from: PresenceMember, state: Json | null): void {
    const msg: PresenceUpdateMessage = { type: 'presence-update', room: from.room, peer: from.peer, state }
    for (const m of members) if (m !== from) m.send(msg)
  }
}

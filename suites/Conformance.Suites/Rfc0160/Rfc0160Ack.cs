using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0160;

[Suite("RFC0160", "3. Connection Acknowledgement", Connections160.Section + "#3-connection-acknowledgement")]
public static class Rfc0160Ack
{
    [Case("RFC0160-ACK-001",
        "After the Response is received, the connection is technically complete. This remains unconfirmed to the inviter however. The invitee SHOULD send a message to the inviter.",
        Level = Level.SHOULD, Description = "Waits, without prompting the agent through its backchannel, for any message after the response.")]
    public static async Task Invitee_sends_a_message_after_the_response_on_its_own(CaseContext c)
    {
        var conn = await Connections160.AutAsInviteeAsync(c, ack: false);
        var responseAt = c.Tap.Outbound.Last(e => Harness.Tap.WireTap.TypeNameIs(e, "response"));
        var after = await c.Tap.WaitAsync(e => e.Direction == "in" && e.Plaintext != null && !Harness.Tap.WireTap.TypeNameIs(e, "request") && !Harness.Tap.WireTap.TypeNameIs(e, "forward"), c.Timeout);
        c.Should("The invitee sends some message (e.g. a trust ping) to the inviter after the response.", after != null,
            "any message after the response", "nothing within " + c.Timeout.TotalSeconds + " s");
    }

    [Case("RFC0160-ACK-002",
        "After a message is sent, the invitee [is] in the complete state. Receipt of a message puts the inviter into the complete state.",
        Aath = "T001-RFC0160 (Bob sends trustping to Acme; Acme and Bob have a connection)")]
    public static async Task Inviter_completes_on_a_trust_ping(CaseContext c)
    {
        var conn = await Connections160.AutAsInviterAsync(c, ack: true);
        var r = await c.Backchannel.ConnectionAsync(conn.AutConnectionId);
        c.Must("The inviter reports the connection active.", Flows.OptStr(r, "state") == "active", "active", Flows.OptStr(r, "state"));
    }

    [Case("RFC0160-ACK-003",
        "As any message will confirm the connection, any message will do.",
        Description = "The reference invitee acknowledges with a basicmessage instead of a trust ping.")]
    public static async Task Inviter_completes_on_any_message(CaseContext c)
    {
        var conn = await Connections160.AutAsInviterAsync(c, ack: false);
        var peerConn = conn.Peer.Agent.Store.GetConnection(conn.PeerConnectionId)!;
        var msg = conn.Peer.Agent.NewMessage("https://didcomm.org/basicmessage/1.0/message");
        msg.Json["sent_time"] = conn.Peer.Agent.Clock.Now().ToString("yyyy-MM-dd HH:mm:ss.fffZ");
        msg.Json["content"] = "hello";
        await conn.Peer.Agent.Outbound.SendAsync(msg, peerConn);
        await Flows.AutConnectionStateAsync(c, conn.AutConnectionId, "Receipt of any message puts the inviter into the complete state.", "active");
    }

    [Case("RFC0160-ACK-004",
        "If no message is needed immediately, a trust ping can be used to allow both parties confirm the connection (RFC 0048: a ping with response_requested is answered by a ping_response whose ~thread.thid is the ping's @id).",
        Section = "3-connection-acknowledgement", Aath = "T002-RFC0160")]
    public static async Task Connected_agent_answers_a_trust_ping(CaseContext c)
    {
        var conn = await Connections160.AutAsInviterAsync(c, ack: true);
        var peerConn = conn.Peer.Agent.Store.GetConnection(conn.PeerConnectionId)!;
        var pingId = await conn.Peer.Agent.TrustPing.SendPingAsync(peerConn, "are you there?");
        var resp = await Flows.ExpectFromAutAsync(c, "ping_response", "The agent answers the trust ping.", m => Flows.ThreadId(m) == pingId);
        c.Must("ping_response ~thread.thid is the ping's @id.", Flows.ThreadId(resp) == pingId, pingId, Flows.ThreadId(resp));
    }
}

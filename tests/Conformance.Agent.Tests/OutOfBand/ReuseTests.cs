using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.ProblemReport;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Tests.OutOfBand;

/// <summary>
/// RFC 0434 §Reuse Messages (handshake-reuse / handshake-reuse-accepted) and the 0023-draft reuse by a didexchange
/// complete carrying the invitation as pthid. The first connection is made by hand (see <see cref="Handshake.ByHand"/>);
/// every message is carried by <see cref="Courier"/>, which opens the envelope with the recipient's wallet.
/// </summary>
public class ReuseTests
{
    private static async Task<(Peer Alice, Peer Bob, InvitationRecord First, ConnectionRecord AliceConn, ConnectionRecord BobConn)> ConnectedAsync(bool multiUse = false)
    {
        var alice = new Peer("Alice");
        var bob = new Peer("Bob");
        var first = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { MultiUse = multiUse });
        var (a, b) = Handshake.ByHand(alice, bob, first);
        return (alice, bob, first, a, b);
    }

    [Test]
    public async Task A_second_invitation_with_the_same_key_is_answered_by_handshake_reuse_on_the_existing_connection()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey, GoalCode = "p2p-messaging" });
        var aliceHistory = aliceConn.History.ToList();
        var bobHistory = bobConn.History.ToList();

        var result = await bob.Oob.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true });
        Assert.That(result.Reused, Is.True);
        Assert.That(result.Connection!.Id, Is.EqualTo(bobConn.Id));
        Assert.That(result.State, Is.EqualTo("reuse-sent"));
        Assert.That(bob.Agent.Store.Connections(), Has.Count.EqualTo(1), "no new connection");

        // "both the handshake-reuse and handshake-reuse-accepted messages MUST be encrypted and transmitted as normal
        // DIDComm messages": authcrypted from Bob's connection key to Alice's connection key.
        var reuse = await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        Assert.That(reuse.Envelope.Mode, Is.EqualTo(EnvelopeMode.Authcrypt));
        Assert.That(reuse.Envelope.SenderVerkey, Is.EqualTo(bobConn.MyVerkey));
        Assert.That(reuse.Connection?.Id, Is.EqualTo(aliceConn.Id));
        Assert.That(reuse.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/out-of-band/1.1/handshake-reuse"));
        // ~thread {thid: "<same as @id>", pthid: "<The @id of the Out-of-Band invitation>"}
        Assert.That(reuse.Message.Thread!.Thid, Is.EqualTo(reuse.Message.Id));
        Assert.That(reuse.Message.Thread.Pthid, Is.EqualTo(second.Id));

        // Alice: answered by the existing connection, one use, and she MUST respond with handshake-reuse-accepted.
        var stored = alice.Agent.Store.GetInvitation(second.Id)!;
        Assert.That(stored.UseCount, Is.EqualTo(1));
        Assert.That(stored.ConnectionId, Is.EqualTo(aliceConn.Id));
        var aliceEvent = alice.EventsOf(AgentEvent.ReuseAccepted).Single();
        Assert.That(aliceEvent.ConnectionId, Is.EqualTo(aliceConn.Id));
        Assert.That(aliceEvent.ThreadId, Is.EqualTo(reuse.Message.Id));

        var accepted = await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        Assert.That(accepted.Envelope.Mode, Is.EqualTo(EnvelopeMode.Authcrypt));
        Assert.That(accepted.Envelope.SenderVerkey, Is.EqualTo(aliceConn.MyVerkey));
        Assert.That(accepted.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/out-of-band/1.1/handshake-reuse-accepted"));
        // ~thread {thid: "<The Message @id of the reuse message>", pthid: "<The @id of the Out-of-Band invitation>"}
        Assert.That(accepted.Message.Thread!.Thid, Is.EqualTo(reuse.Message.Id));
        Assert.That(accepted.Message.Thread.Pthid, Is.EqualTo(second.Id));

        var bobEvent = bob.EventsOf(AgentEvent.ReuseAccepted).Single();
        Assert.That(bobEvent.ConnectionId, Is.EqualTo(bobConn.Id));
        Assert.That(bobEvent.ThreadId, Is.EqualTo(reuse.Message.Id));

        // "Sending or receiving this message does not change the state of the existing connection."
        Assert.That(alice.Agent.Store.GetConnection(aliceConn.Id)!.History, Is.EqualTo(aliceHistory));
        Assert.That(bob.Agent.Store.GetConnection(bobConn.Id)!.History, Is.EqualTo(bobHistory));
        Assert.That(alice.Agent.Store.Connections(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Waiting_for_the_accept_returns_reuse_accepted()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });

        var receiving = bob.Oob.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseAcceptTimeout = TimeSpan.FromSeconds(10) });
        await TestAgents.WaitUntilAsync(() => Courier.Queued(bob, aliceConn.MyVerkey!) == 1, "Bob sending handshake-reuse");
        Assert.That(receiving.IsCompleted, Is.False, "Bob waits for the accept");
        await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        var result = await receiving;
        Assert.That(result.State, Is.EqualTo("reuse-accepted"));
        Assert.That(result.Reused, Is.True);
        Assert.That(result.Connection!.Id, Is.EqualTo(bobConn.Id));
    }

    [Test]
    public async Task A_multi_use_invitation_stays_open_after_a_reuse_and_a_single_use_one_is_consumed()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var multi = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey, MultiUse = true });
        var single = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });

        foreach (var inv in new[] { multi, multi, single })
        {
            await bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions { UseExistingConnection = true });
            await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
            await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        }
        Assert.That(alice.Agent.Store.GetInvitation(multi.Id)!.UseCount, Is.EqualTo(2));
        Assert.That(bob.EventsOf(AgentEvent.ReuseAccepted), Has.Count.EqualTo(3));

        // The single-use invitation is done: a further request for it is refused by the handshake protocols...
        var e = Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation(single.Id, "didexchange/1.1", "request-9", null));
        Assert.That(e!.Code, Is.EqualTo("request_not_accepted"));
        // ... and a further reuse by the out-of-band protocol.
        await bob.Oob.ReceiveInvitationAsync(single.Invitation, new OobReceiveOptions { UseExistingConnection = true });
        await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        var report = await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        Assert.That(ProblemReports.CodeOf(report.Json), Is.EqualTo("invitation-already-used"));
    }

    [Test]
    public async Task A_reuse_naming_an_unknown_invitation_gets_an_out_of_band_problem_report_and_the_connection_is_unharmed()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        // Bob holds an invitation with Alice's key that Alice never issued (or has forgotten).
        var forged = (JsonObject)first.Invitation.DeepClone();
        forged["@id"] = "never-issued-0000-0001";
        var aliceHistory = aliceConn.History.ToList();

        await bob.Oob.ReceiveInvitationAsync(forged, new OobReceiveOptions { UseExistingConnection = true });
        var reuse = await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        Assert.That(alice.EventsOf(AgentEvent.ReuseAccepted), Is.Empty);

        var report = await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        Assert.That(report.Envelope.Mode, Is.EqualTo(EnvelopeMode.Authcrypt), "sent on the connection");
        Assert.That(report.Envelope.SenderVerkey, Is.EqualTo(aliceConn.MyVerkey));
        // RFC 0434 §Errors: "https://didcomm.org/out-of-band/%VER/problem_report", ~thread.pthid = the invitation.
        Assert.That(report.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/out-of-band/1.1/problem_report"));
        Assert.That(ProblemReports.CodeOf(report.Json), Is.EqualTo("invitation-not-found"));
        Assert.That(report.Json["description"]!["en"]!.GetValue<string>(), Does.StartWith("No invitation found for reuse"));
        Assert.That(report.Message.Thread!.Thid, Is.EqualTo(reuse.Message.Id));
        Assert.That(report.Message.Thread.Pthid, Is.EqualTo("never-issued-0000-0001"));

        var aliceAfter = alice.Agent.Store.GetConnection(aliceConn.Id)!;
        Assert.That(aliceAfter.State, Is.EqualTo("completed"));
        Assert.That(aliceAfter.History, Is.EqualTo(aliceHistory));
        // Bob keeps the report on the connection and announces it; no reuse-accepted.
        Assert.That(bob.Agent.Store.GetConnection(bobConn.Id)!.ProblemReport?["@id"]?.GetValue<string>(), Is.EqualTo(report.Message.Id));
        Assert.That(bob.Agent.Store.GetConnection(bobConn.Id)!.State, Is.EqualTo("completed"));
        Assert.That(bob.EventsOf(AgentEvent.ProblemReportReceived).Single().ThreadId, Is.EqualTo(reuse.Message.Id));
        Assert.That(bob.EventsOf(AgentEvent.ReuseAccepted), Is.Empty);
    }

    [Test]
    public async Task A_reuse_of_an_expired_invitation_is_refused_with_expired_invitation()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var expired = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey, ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) });
        await bob.Oob.ReceiveInvitationAsync(expired.Invitation, new OobReceiveOptions { UseExistingConnection = true });
        await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        var report = await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        Assert.That(ProblemReports.CodeOf(report.Json), Is.EqualTo("expired-invitation"));
        Assert.That(expired.UseCount, Is.Zero);
    }

    [Test]
    public async Task A_handshake_reuse_off_a_connection_or_on_an_unfinished_one_is_refused()
    {
        var (alice, bob, first, aliceConn, _) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var reuse = AgentMessage.Create(MessageType.Parse("https://didcomm.org/out-of-band/1.1/handshake-reuse"), "reuse-0000-0001").WithThread("reuse-0000-0001", first.Id);
        InboundMessage Inbound(ConnectionRecord? c) => new()
        {
            Message = reuse, SenderVerkey = null, RecipientVerkey = first.RecipientKey, Envelope = [], Connection = c,
        };

        var off = await Assert.ThrowsAsync<ProblemReportException>(() => alice.Oob.HandleAsync(Inbound(null), default));
        Assert.That(off!.Code, Is.EqualTo("no_existing_connection"));
        Assert.That(off.Family, Is.EqualTo("out-of-band/1.1"));
        Assert.That(off.ParentThreadId, Is.EqualTo(first.Id));

        aliceConn.MoveTo("request-received", DateTimeOffset.UtcNow);
        var unfinished = await Assert.ThrowsAsync<ProblemReportException>(() => alice.Oob.HandleAsync(Inbound(aliceConn), default));
        Assert.That(unfinished!.Code, Is.EqualTo("existing_connection_not_active"));
        Assert.That(first.UseCount, Is.Zero, "a refused reuse is not a use");
    }

    [Test]
    public async Task An_accept_for_no_reuse_of_ours_is_ignored()
    {
        var (alice, bob, _, _, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var stray = AgentMessage.Create(MessageType.Parse("https://didcomm.org/out-of-band/1.1/handshake-reuse-accepted"), "acc-0000-0001").WithThread("nothing-we-sent", "inv");
        await bob.Oob.HandleAsync(new InboundMessage { Message = stray, SenderVerkey = bobConn.TheirService!.RecipientKeys[0], RecipientVerkey = bobConn.MyVerkey!, Envelope = [], Connection = bobConn }, default);
        Assert.That(bob.EventsOf(AgentEvent.ReuseAccepted), Is.Empty);
    }

    [Test]
    public async Task Reuse_matches_the_same_invitation_key_or_the_same_public_DID_and_only_established_connections()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var first = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        var (_, bobConn) = Handshake.ByHand(alice, bob, first);

        var sameKey = OobInvitation.Parse((await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey })).Invitation);
        var newKey = OobInvitation.Parse((await alice.Oob.CreateInvitationAsync(new OobInvitationOptions())).Invitation);
        Assert.That(bob.Oob.FindExistingConnection(sameKey)?.Id, Is.EqualTo(bobConn.Id));
        Assert.That(bob.Oob.FindExistingConnection(newKey), Is.Null, "Credo too: reuse needs the same invitation key");

        // Through a public DID: "a connection they have was created from an out-of-band invitation from the same services DID".
        var my = MyDids.Create(alice.Agent, "peer:4");
        alice.Agent.PublicDid = new PublicDid(my.Did, my.Key.Verkey, my.Document);
        var viaDid1 = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { UsePublicDid = true });
        var (_, bobConn2) = Handshake.ByHand(alice, bob, viaDid1);
        var viaDid2 = OobInvitation.Parse((await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { UsePublicDid = true })).Invitation);
        Assert.That(bob.Oob.FindExistingConnection(viaDid2)?.Id, Is.EqualTo(bobConn2.Id));

        // A connection still in progress is not reused.
        bobConn.MoveTo("request-sent", DateTimeOffset.UtcNow);
        Assert.That(bob.Oob.FindExistingConnection(sameKey), Is.Null);
    }

    [Test]
    public async Task Complete_style_reuse_sends_a_didexchange_complete_with_the_invitation_as_pthid()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });

        var result = await bob.Oob.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseStyle = "complete" });
        Assert.That(result.Reused, Is.True);
        Assert.That(result.State, Is.EqualTo("reuse-complete-sent"));
        Assert.That(result.Connection!.Id, Is.EqualTo(bobConn.Id));

        // 0023 draft §Connection Reuse: "A complete message is sent, including the pthid used to maintain context".
        var complete = await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!, deliver: false);
        Assert.That(complete.Envelope.Mode, Is.EqualTo(EnvelopeMode.Authcrypt));
        Assert.That(complete.Connection?.Id, Is.EqualTo(aliceConn.Id));
        Assert.That(complete.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/didexchange/1.1/complete"));
        Assert.That(complete.Message.Thread!.Thid, Is.EqualTo(complete.Message.Id), "a new thread, started by this message");
        Assert.That(complete.Message.Thread.Pthid, Is.EqualTo(second.Id));

        // Alice's didexchange complete handler (another helper's) hands such a complete to RecordReuse.
        alice.Oob.RecordReuse(aliceConn, second.Id);
        Assert.That(alice.Agent.Store.GetInvitation(second.Id)!.UseCount, Is.EqualTo(1));
        Assert.That(alice.Agent.Store.GetInvitation(second.Id)!.ConnectionId, Is.EqualTo(aliceConn.Id));
        var e = alice.EventsOf(AgentEvent.ReuseAccepted).Single();
        Assert.That(e.ConnectionId, Is.EqualTo(aliceConn.Id));
        Assert.That(e.ThreadId, Is.EqualTo(second.Id));

        var again = Assert.Throws<ProblemReportException>(() => alice.Oob.RecordReuse(aliceConn, second.Id));
        Assert.That(again!.Family, Is.EqualTo("out-of-band/1.1"));
        Assert.That(again.Code, Is.EqualTo("invitation-already-used"));
        Assert.That(again.Connection, Is.SameAs(aliceConn));
        var unknown = Assert.Throws<ProblemReportException>(() => alice.Oob.RecordReuse(aliceConn, "never-issued"));
        Assert.That(unknown!.Code, Is.EqualTo("invitation-not-found"));
        Assert.That(unknown.ParentThreadId, Is.EqualTo("never-issued"));
    }

    [Test]
    public async Task Complete_style_reuse_answers_a_didexchange_1_0_invitation_in_1_0()
    {
        var (alice, bob, first, aliceConn, _) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey, HandshakeProtocols = ["https://didcomm.org/didexchange/1.0"] });
        await bob.Oob.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseStyle = "complete" });
        var complete = await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!, deliver: false);
        Assert.That(complete.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/didexchange/1.0/complete"));
    }

    [Test]
    public async Task A_1_0_invitation_is_reused_with_1_0_messages()
    {
        var (alice, bob, first, aliceConn, bobConn) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });
        var v10 = (JsonObject)second.Invitation.DeepClone();
        v10["@type"] = "https://didcomm.org/out-of-band/1.0/invitation";
        await bob.Oob.ReceiveInvitationAsync(v10, new OobReceiveOptions { UseExistingConnection = true });
        var reuse = await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        Assert.That(reuse.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/out-of-band/1.0/handshake-reuse"));
        var accepted = await Courier.CarryOneAsync(alice, bob, bobConn.MyVerkey!);
        Assert.That(accepted.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/out-of-band/1.0/handshake-reuse-accepted"));
        Assert.That(bob.EventsOf(AgentEvent.ReuseAccepted), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_invitation_received_as_a_DIDComm_message_is_refused()
    {
        var (alice, bob, first, aliceConn, _) = await ConnectedAsync();
        await using var _a = alice;
        await using var _b = bob;
        var m = AgentMessage.FromJson(first.Invitation);
        var e = await Assert.ThrowsAsync<ProblemReportException>(() => alice.Oob.HandleAsync(new InboundMessage
        {
            Message = m, SenderVerkey = aliceConn.TheirService!.RecipientKeys[0], RecipientVerkey = aliceConn.MyVerkey!, Envelope = [], Connection = aliceConn,
        }, default));
        Assert.That(e!.Code, Is.EqualTo("unsupported-message-type"));
    }
}

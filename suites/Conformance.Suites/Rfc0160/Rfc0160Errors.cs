using System.Text.Json.Nodes;
using Conformance.Agent.Misbehaviour;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0160;

[Suite("RFC0160", "Errors", Connections160.Section + "#errors")]
public static class Rfc0160Errors
{
    /// <summary>
    /// Checks a problem report from the AUT: family, code, and thread pointing at the offending message. RFC 0160's
    /// example threads the report to "the @id of message related to problem"; agents thread it to that message's
    /// thread (for a response, the request's @id). Both identify the offending message, so both are accepted.
    /// </summary>
    public static void CheckReport(CaseContext c, JsonObject report, string expectedCode, string offendingId, string family = "connections")
        => CheckReport(c, report, expectedCode, [offendingId], family);

    public static void CheckReport(CaseContext c, JsonObject report, string expectedCode, IReadOnlyList<string> offendingIds, string family)
    {
        var offendingId = string.Join(" or ", offendingIds);
        var type = Flows.OptStr(report, "@type");
        c.Must($"The problem report is a {family} problem_report.", MessageType.TryParse(type, out var t) && t!.Protocol == family && t.Name is "problem_report" or "problem-report",
            $"…/{family}/1.x/problem_report", type);
        var code = Flows.ProblemCode(report);
        c.Must($"The problem code is {expectedCode}.", code == expectedCode, expectedCode, code ?? "no problem-code");
        c.Must("The ~thread attribute provides a context for the problem, referring to the message which contains the problem.",
            offendingIds.Contains(Flows.ThreadId(report) ?? ""), offendingId, Flows.ThreadId(report) ?? "no ~thread.thid");
    }

    [Case("RFC0160-ERRORS-001",
        "request_not_accepted - The error indicates that the request has been rejected. If the inviter wishes to retract the messages they sent, they return a request_not_accepted error when the other party sends a request (a single-use invitation used twice).",
        Aath = "T003-RFC0160 (Mallory sends a connection request based on the invitation after the connection)")]
    public static async Task Consumed_single_use_invitation_is_rejected_after_the_connection(CaseContext c)
    {
        var conn = await Connections160.AutAsInviterAsync(c, ack: true);
        var mallory = await c.PeerAsync("Mallory", o => o.AutoAccept = true);
        var mc = await mallory.Agent.Connections.ReceiveInvitationAsync(conn.Invitation, autoAccept: true);
        var request = mallory.Agent.Store.GetConnection(mc.Id)!.ThreadId!;
        var report = await Flows.ExpectFromAutAsync(c, "problem_report", "The inviter answers the replayed request with a problem report.",
            m => Flows.ThreadId(m) == request || Flows.ProblemCode(m) != null);
        CheckReport(c, report, "request_not_accepted", request);
        await StillConnected(c, conn);
    }

    [Case("RFC0160-ERRORS-002",
        "request_not_accepted for a second request on a single-use invitation while the first exchange is still in progress.",
        Aath = "T004-RFC0160 (Mallory sends a connection request during the first share phase)")]
    public static async Task Consumed_single_use_invitation_is_rejected_during_the_first_exchange(CaseContext c)
    {
        var (autId, inv) = await Connections160.AutCreatesInvitationAsync(c);
        var bob = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        await bob.Agent.Connections.ReceiveInvitationAsync(inv, autoAccept: true);
        await Flows.AutConnectionStateAsync(c, autId, "The inviter records Bob's request.", "request");
        var mallory = await c.PeerAsync("Mallory", o => o.AutoAccept = true);
        var mc = await mallory.Agent.Connections.ReceiveInvitationAsync(inv, autoAccept: true);
        var request = mallory.Agent.Store.GetConnection(mc.Id)!.ThreadId!;
        var report = await Flows.ExpectFromAutAsync(c, "problem_report", "The inviter answers Mallory's request with a problem report.");
        CheckReport(c, report, "request_not_accepted", request);
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        await Flows.ExpectFromAutAsync(c, "response", "Bob's exchange is unharmed: the inviter can still respond to Bob.",
            m => Flows.ThreadId(m) != request);
    }

    [Case("RFC0160-ERRORS-003",
        "response_not_accepted - The error indicates that the response has been rejected for a reason listed in the error_report. Typical reasons include ... invalid signature. The signature data must be used to verify against the invitation's recipientKeys for continuity.",
        Description = "The reference inviter signs connection~sig with a key that is not the invitation key; the agent under test must not accept the response.")]
    public static async Task Response_signed_by_another_key_is_not_accepted(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var stranger = peer.Agent.Wallet.CreateKey();
        peer.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "connection~sig signed by a key that is not the invitation key") { SignWith = stranger });
        await ResponseMustBeRejected(c, peer);
    }

    [Case("RFC0160-ERRORS-004",
        "response_not_accepted - invalid signature: the sig_data was changed after signing.",
        Description = "The reference inviter alters sig_data after signing (the timestamp bytes).")]
    public static async Task Response_with_tampered_sig_data_is_not_accepted(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        peer.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "sig_data altered after signing") { Mutate = m =>
        {
            var sig = (JsonObject)m["connection~sig"]!;
            var data = Wire.Encoding.Base64Url.Decode(sig["sig_data"]!.GetValue<string>());
            data[7] ^= 1; // the last byte of the timestamp
            sig["sig_data"] = Wire.Encoding.Base64Url.Encode(data, padded: true);
            return m;
        } });
        await ResponseMustBeRejected(c, peer);
    }

    [Case("RFC0160-ERRORS-005",
        "The ~thread block contains a thid reference to the @id of the request message; a response on another thread is not a response to this request.",
        Description = "The reference inviter answers with a response whose ~thread.thid names no request.")]
    public static async Task Response_on_the_wrong_thread_is_not_accepted(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        peer.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "~thread.thid replaced by an unknown id") { Mutate = m =>
        {
            m["~thread"] = new JsonObject { ["thid"] = "00000000-0000-4000-8000-000000000000" };
            return m;
        } });
        await ResponseMustBeRejected(c, peer, expectReport: false);
    }

    private static async Task ResponseMustBeRejected(CaseContext c, Harness.Drivers.ReferencePeer peer, bool expectReport = true)
    {
        var (_, inv, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { AutoAccept = true });
        var received = await c.Backchannel.ConnectionReceiveInvitationAsync(inv);
        var autId = Flows.Str(received, "connection_id");
        await c.Backchannel.ConnectionAcceptInvitationAsync(autId);
        var request = await Flows.ExpectFromAutAsync(c, "request", "The invitee sends its request.");
        await c.Tap.WaitAsync(e => e.Direction == "out" && Harness.Tap.WireTap.TypeNameIs(e, "response"), c.Timeout);
        var report = await c.ReceivedAsync("problem_report");
        var state = Flows.OptStr(await c.Backchannel.ConnectionAsync(autId), "state");
        c.Must("The invitee does not accept the faulty response: its connection does not become active or responded.",
            state is not ("active" or "response"), "not response/active", state);
        if (!expectReport) return;
        c.Should("The invitee reports response_not_accepted.", report?.Plaintext != null, "a problem_report", "none");
        var response = c.Tap.Outbound.Last(e => Harness.Tap.WireTap.TypeNameIs(e, "response")).Plaintext!;
        if (report?.Plaintext is { } r) CheckReport(c, r, "response_not_accepted", [Flows.OptStr(response, "@id")!, Flows.ThreadId(response) ?? ""], "connections");
    }

    [Case("RFC0160-ERRORS-006",
        "request_not_accepted — typical reasons include ... DID Document Invalid.",
        Level = Level.SHOULD, Section = "request-errors",
        Description = "The reference invitee's request carries a DIDDoc that describes another DID (its id and key references name a different DID); its service is intact so a report can be sent back.")]
    public static async Task Request_with_invalid_DIDDoc_is_rejected(CaseContext c)
        => await RequestMustBeRejected(c, "a DIDDoc of another DID", m =>
        {
            if (m["connection"]!["DIDDoc"] is JsonObject doc)
            {
                var other = "did:sov:" + Wire.Encoding.Base58.Encode(new byte[16]);
                var own = doc["id"]?.ToString() ?? "";
                doc["id"] = other;
                foreach (var pk in (doc["publicKey"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    pk["id"] = pk["id"]?.ToString().Replace(own, other);
                    pk["controller"] = other;
                }
            }
            return m;
        });

    [Case("RFC0160-ERRORS-007",
        "request_not_accepted — typical reasons include not accepting the method of the provided DID.",
        Level = Level.SHOULD, Section = "request-errors",
        Description = "The reference invitee presents a DID of a method nobody resolves (did:unsupported:…).")]
    public static async Task Request_with_unsupported_did_method_is_rejected(CaseContext c)
        => await RequestMustBeRejected(c, "DID of an unsupported method", m =>
        {
            m["connection"]!["DID"] = "did:unsupported:1234567890";
            if (m["connection"]!["DIDDoc"] is JsonObject d) d["id"] = "did:unsupported:1234567890";
            return m;
        });

    private static async Task RequestMustBeRejected(CaseContext c, string fault, Func<JsonObject, JsonObject> mutate)
    {
        var (autId, inv) = await Connections160.AutCreatesInvitationAsync(c);
        var bob = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("request", fault) { Mutate = mutate });
        try { await bob.Agent.Connections.ReceiveInvitationAsync(inv, autoAccept: true); }
        catch (Agent.Transport.DeliveryException e) { c.Note("the inviter refused the faulty request at the transport: " + e.Message); }
        var requestId = Flows.OptStr(Flows.SentByPeer(c, "request"), "@id")!;
        var report = await c.ReceivedAsync("problem_report");
        var state = Flows.OptStr(await c.Backchannel.ConnectionAsync(autId), "state");
        c.Must("The inviter does not move past the invitation with a faulty request (no response, not active).",
            c.Tap.Received("response").Count == 0 && state is not ("response" or "active"), "no response", $"state {state}, responses {c.Tap.Received("response").Count}");
        c.Should("The inviter reports request_not_accepted.", report?.Plaintext != null, "a problem_report", "none");
        if (report?.Plaintext is { } r) CheckReport(c, r, "request_not_accepted", requestId);
    }

    [Case("RFC0160-ERRORS-008",
        "These errors are sent using a problem_report message type specific to the connection message family; a received problem report leaves the other side able to correct and resend (\"The request can be resent after the appropriate corrections have been made\").",
        Level = Level.SHOULD, Description = "The reference inviter rejects the AUT's first request with request_not_accepted; the AUT's state machine must survive it and a fresh invitation still connects.")]
    public static async Task Invitee_survives_a_problem_report(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        peer.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "response replaced by a request_not_accepted problem report") { Mutate = m =>
        {
            var thid = Flows.ThreadId(m);
            var prefix = Flows.OptStr(m, "@type")!.Split("connections/")[0];
            return new JsonObject
            {
                ["@type"] = prefix + "connections/1.0/problem_report", ["@id"] = Flows.OptStr(m, "@id"),
                ["~thread"] = new JsonObject { ["thid"] = thid }, ["problem-code"] = "request_not_accepted",
                ["explain"] = "rejected by the test", ["description"] = new JsonObject { ["en"] = "rejected by the test", ["code"] = "request_not_accepted" },
            };
        } });
        var (_, inv, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { AutoAccept = true });
        var received = await c.Backchannel.ConnectionReceiveInvitationAsync(inv);
        var autId = Flows.Str(received, "connection_id");
        await c.Backchannel.ConnectionAcceptInvitationAsync(autId);
        await c.Tap.WaitAsync(e => e.Direction == "out" && Harness.Tap.WireTap.TypeNameIs(e, "problem_report"), c.Timeout);
        var state = Flows.OptStr(await c.Backchannel.ConnectionAsync(autId), "state");
        c.Must("The rejected connection does not become active.", state != "active", "not active", state);
        var again = await Connections160.AutAsInviteeAsync(c, ack: true);
        c.Should("A new invitation from the same inviter still connects.", again.AutConnectionId.Length > 0, "connected", "connected");
    }

    [Case("RFC0160-ERRORS-009",
        "The @type attribute is a required string value that denotes that the received message is a problem_report within the connections family; use of ~l10n is encouraged, with at least locale defined; the explain attribute contains a human readable message.",
        Level = Level.SHOULD, Section = "error-message-attributes", Aath = "T003-RFC0160 (the report itself)")]
    public static async Task Problem_report_explains_itself(CaseContext c)
    {
        var conn = await Connections160.AutAsInviterAsync(c, ack: true);
        var mallory = await c.PeerAsync("Mallory", o => o.AutoAccept = true);
        await mallory.Agent.Connections.ReceiveInvitationAsync(conn.Invitation, autoAccept: true);
        var report = await Flows.ExpectFromAutAsync(c, "problem_report", "The inviter answers the replayed request with a problem report.");
        var explain = Flows.OptStr(report, "explain") ?? Flows.OptStr(report["description"], "en");
        c.Should("The report explains the problem in human-readable words (explain or description.en).", explain is { Length: > 0 }, "explain", report.ToJsonString());
        c.Should("The report names a locale (~l10n).", report["~l10n"] != null || report["~i10n"] != null, "~l10n.locale", report.ToJsonString());
    }

    public static async Task StillConnected(CaseContext c, Connection160 conn)
    {
        var peerConn = conn.Peer.Agent.Store.GetConnection(conn.PeerConnectionId)!;
        var pingId = await conn.Peer.Agent.TrustPing.SendPingAsync(peerConn, "still there?");
        var pong = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == pingId);
        c.Must("The first connection is unharmed: it still answers a trust ping.", pong != null, "ping_response", "none");
    }
}

using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;

namespace Conformance.Agent.Tests.OutOfBand;

/// <summary>RFC 0434 §Messages "Invitation" and §"The services Item", sender side; and the sender's claim bookkeeping.</summary>
public class InvitationCreationTests
{
    [Test]
    public async Task Invitation_has_the_RFC_0434_fields_in_the_order_given_and_an_inline_did_key_service()
    {
        await using var alice = new Peer("Alice", o => o.Endpoints.Add("http://alice.example:8020"));
        var ping = Oob.Ping("6f1a7c3e-0000-4000-8000-000000000001");
        var record = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions
        {
            // Any order the caller gives is kept: "in the order of preference of the sender".
            HandshakeProtocols = ["https://didcomm.org/connections/1.0", "https://didcomm.org/didexchange/1.1"],
            Attachments = [ping],
            GoalCode = "issue-vc",
            Goal = "To issue a Faber College Graduate credential",
        });
        var inv = record.Invitation;

        Assert.That(inv["@type"]!.GetValue<string>(), Is.EqualTo("https://didcomm.org/out-of-band/1.1/invitation"));
        Assert.That(inv["@id"]!.GetValue<string>(), Is.EqualTo(record.Id));
        Assert.That(inv["label"]!.GetValue<string>(), Is.EqualTo("Alice"));
        Assert.That(inv["goal_code"]!.GetValue<string>(), Is.EqualTo("issue-vc"));
        Assert.That(inv["goal"]!.GetValue<string>(), Is.EqualTo("To issue a Faber College Graduate credential"));
        Assert.That(Oob.Strings(inv["accept"]), Is.EqualTo(new[] { "didcomm/aip1", "didcomm/aip2;env=rfc19" }));
        Assert.That(Oob.Strings(inv["handshake_protocols"]), Is.EqualTo(new[] { "https://didcomm.org/connections/1.0", "https://didcomm.org/didexchange/1.1" }));
        // RFC 0434 has no expiry member, and nothing else beyond the RFC's list is written.
        Assert.That(inv.Select(kv => kv.Key), Is.EqualTo(new[] { "@type", "@id", "label", "goal_code", "goal", "accept", "handshake_protocols", "requests~attach", "services" }));

        var attach = (JsonObject)((JsonArray)inv["requests~attach"]!)[0]!;
        Assert.That(attach["@id"]!.GetValue<string>(), Is.EqualTo("request-0"));
        Assert.That(attach["mime-type"]!.GetValue<string>(), Is.EqualTo("application/json"));
        Assert.That(JsonNode.DeepEquals(attach["data"]!["json"], ping), Is.True, "the attached message is carried as data.json, unchanged");

        var services = (JsonArray)inv["services"]!;
        Assert.That(services, Has.Count.EqualTo(1));
        var svc = (JsonObject)services[0]!;
        Assert.That(svc.Select(kv => kv.Key), Is.EqualTo(new[] { "id", "type", "recipientKeys", "routingKeys", "serviceEndpoint" }));
        Assert.That(svc["id"]!.GetValue<string>(), Is.EqualTo("#inline"));
        Assert.That(svc["type"]!.GetValue<string>(), Is.EqualTo("did-communication"));
        Assert.That(svc["serviceEndpoint"]!.GetValue<string>(), Is.EqualTo("http://alice.example:8020"));
        Assert.That(Oob.Strings(svc["routingKeys"]), Is.Empty);
        // "The recipientKeys and routingKeys within the inline block decorator MUST be did:key references."
        var key = Oob.Strings(svc["recipientKeys"]).Single();
        Assert.That(key, Does.StartWith("did:key:z6Mk"));
        var (codec, raw) = DidKey.Parse(key);
        Assert.That(codec, Is.EqualTo(KeyCodec.Ed25519Pub));
        Assert.That(Base58.Encode(raw), Is.EqualTo(record.RecipientKey));
        Assert.That(alice.Agent.Wallet.Holds(record.RecipientKey), Is.True, "the inviter holds the invitation key (requests are encrypted to it)");

        Assert.That(record.Kind, Is.EqualTo("out-of-band"));
        Assert.That(record.MultiUse, Is.False);
        Assert.That(record.UseCount, Is.Zero);
        Assert.That(record.HandshakeProtocols, Is.EqualTo(new[] { "https://didcomm.org/connections/1.0", "https://didcomm.org/didexchange/1.1" }));
        Assert.That(alice.Agent.Store.GetInvitation(record.Id), Is.SameAs(record));
    }

    [Test]
    public async Task Our_invitation_reads_back_with_the_receivers_reader_without_deviations()
    {
        await using var alice = new Peer("Alice");
        var record = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { Attachments = [Oob.BasicMessage("msg-00000001", "hello")] });
        var parsed = OobInvitation.Parse(record.Invitation);
        Assert.That(parsed.Deviations, Is.Empty);
        Assert.That(parsed.Id, Is.EqualTo(record.Id));
        Assert.That(parsed.InlineRecipientKeys, Is.EqualTo(new[] { record.RecipientKey }));
        Assert.That(parsed.HandshakeProtocols, Is.EqualTo(new[] { "https://didcomm.org/didexchange/1.1" }));
        Assert.That(parsed.Requests.Single().Id, Is.EqualTo("msg-00000001"));
        // An agent without an endpoint advertises the queue pseudo-endpoint, as its DIDs do (MyDids).
        Assert.That(parsed.InlineServices.Single().Service.Endpoint, Is.EqualTo("didcomm:transport/queue"));
    }

    [Test]
    public async Task Raw_base58_keys_are_written_only_when_asked_and_the_reader_flags_them()
    {
        await using var alice = new Peer("Alice");
        var record = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { DidKeyRecipientKeys = false });
        var svc = record.Invitation["services"]![0]!;
        Assert.That(Oob.Strings(svc["recipientKeys"]), Is.EqualTo(new[] { record.RecipientKey }));
        var parsed = OobInvitation.Parse(record.Invitation);
        Assert.That(parsed.InlineRecipientKeys, Is.EqualTo(new[] { record.RecipientKey }));
        Assert.That(parsed.Deviations, Has.Some.Contains("not a did:key"));
    }

    [Test]
    public async Task An_invitation_needs_handshake_protocols_or_requests_attach()
    {
        await using var alice = new Peer("Alice");
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = [] }));
        Assert.That(e!.Message, Does.Contain("one or both MUST be included"));
        await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = ["didexchange"] }));
        await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { Attachments = [new JsonObject { ["no"] = "type" }] }));
        Assert.That(alice.Agent.Store.Invitations(), Is.Empty, "nothing stored for a refused invitation");

        // requests~attach alone is fine: a connectionless invitation.
        var r = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = [], Attachments = [Oob.Ping("ping-0000001")] });
        Assert.That(r.Invitation.ContainsKey("handshake_protocols"), Is.False);
    }

    [Test]
    public async Task Public_DID_invitation_lists_the_DID_and_fails_clearly_without_one()
    {
        await using var alice = new Peer("Alice", o => o.Endpoints.Add("http://alice.example"));
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { UsePublicDid = true }));
        Assert.That(e, Is.InstanceOf<InvalidOperationException>());
        Assert.That(e!.Message, Does.Contain("no public DID"));

        var my = MyDids.Create(alice.Agent, "peer:4");
        alice.Agent.PublicDid = new PublicDid(my.Did, my.Key.Verkey, my.Document);
        var record = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { UsePublicDid = true });
        Assert.That(Oob.Strings(record.Invitation["services"]), Is.EqualTo(new[] { my.Did }));
        Assert.That(record.RecipientKey, Is.EqualTo(my.Key.Verkey));

        // The receiver resolves the DID to its did-communication service (RFC 0434: "a DID that is resolved to retrieve it's DIDDoc service block").
        await using var bob = new Peer("Bob");
        var services = await OobInvitation.Parse(record.Invitation).ResolveServicesAsync(bob.Agent.Resolver);
        Assert.That(services.Single().Did, Is.EqualTo(my.Did));
        Assert.That(services.Single().Service.RecipientKeys, Is.EqualTo(new[] { my.Key.Verkey }));
        Assert.That(services.Single().Service.Endpoint, Is.EqualTo("http://alice.example"));

        await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { UsePublicDid = true, MediatorConnectionId = "m" }));
    }

    [Test]
    public async Task Routing_through_an_unknown_or_unavailable_mediator_fails_clearly()
    {
        await using var alice = new Peer("Alice");
        // Before the mediation protocol is merged its methods throw NotImplementedException; after, an unknown
        // connection has no granted routing. Either way: a clear InvalidOperationException, no invitation stored.
        var e = await Assert.CatchAsync(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { MediatorConnectionId = "no-such-connection" }));
        Assert.That(e, Is.InstanceOf<InvalidOperationException>(), e?.GetType().Name + ": " + e?.Message);
        Assert.That(e!.Message, Does.Contain("mediat"));
        Assert.That(alice.Agent.Store.Invitations(), Is.Empty);
    }

    [Test]
    public async Task RecipientKey_reuses_an_earlier_invitation_key_and_must_be_ours()
    {
        await using var alice = new Peer("Alice");
        var first = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });
        var third = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = DidKey.FromVerkey(first.RecipientKey) });
        Assert.That(second.Id, Is.Not.EqualTo(first.Id));
        Assert.That(second.RecipientKey, Is.EqualTo(first.RecipientKey));
        Assert.That(third.RecipientKey, Is.EqualTo(first.RecipientKey), "a did:key form names the same key");
        Assert.That(second.Invitation["services"]![0]!["recipientKeys"]!.ToJsonString(), Is.EqualTo(first.Invitation["services"]![0]!["recipientKeys"]!.ToJsonString()));

        // RFC 0360's example verkey: a valid key, but not one Alice holds.
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K" }));
        Assert.That(e!.Message, Does.Contain("not a key this agent holds"));
        await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = "not-a-key" }));
    }

    [Test]
    public async Task SameServicesAs_names_the_earlier_invitations_services_again_and_refuses_what_is_not_ours()
    {
        await using var alice = new Peer("Alice", o => o.Endpoints.Add("http://alice.example:8020"));
        var first = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { SameServicesAs = first.Id, GoalCode = "p2p-messaging" });
        // RFC 0434 §Reuse Messages: reuse is recognised by "the same services DID"; an inline block stands for the
        // did:peer:2 of its key and endpoint, so the same block (key, endpoint, routing keys) is named again.
        Assert.That(second.Id, Is.Not.EqualTo(first.Id));
        Assert.That(second.RecipientKey, Is.EqualTo(first.RecipientKey));
        Assert.That(JsonNode.DeepEquals(second.Invitation["services"], first.Invitation["services"]), Is.True,
            second.Invitation["services"]!.ToJsonString() + " vs " + first.Invitation["services"]!.ToJsonString());
        Assert.That(second.Invitation["goal_code"]!.GetValue<string>(), Is.EqualTo("p2p-messaging"));

        // An earlier public-DID invitation: the same DID.
        var my = MyDids.Create(alice.Agent, "peer:4");
        alice.Agent.PublicDid = new PublicDid(my.Did, my.Key.Verkey, my.Document);
        var viaDid = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { UsePublicDid = true });
        var again = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { SameServicesAs = viaDid.Id });
        Assert.That(Oob.Strings(again.Invitation["services"]), Is.EqualTo(new[] { my.Did }));
        Assert.That(again.RecipientKey, Is.EqualTo(my.Key.Verkey));

        var count = alice.Agent.Store.Invitations().Count;
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { SameServicesAs = "no-such-invitation" }));
        Assert.That(e!.Message, Does.Contain("not an out-of-band invitation this agent created"));
        e = await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { SameServicesAs = first.Id, UsePublicDid = true }));
        Assert.That(e!.Message, Does.Contain("does not combine"));
        await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { SameServicesAs = first.Id, RecipientKey = first.RecipientKey }));
        await Assert.ThrowsAsync<OutOfBandException>(() => alice.Oob.CreateInvitationAsync(new OobInvitationOptions { SameServicesAs = first.Id, MediatorConnectionId = "m" }));
        Assert.That(alice.Agent.Store.Invitations(), Has.Count.EqualTo(count), "nothing stored for a refused invitation");
    }

    [Test]
    public async Task Seeded_agents_write_byte_identical_invitations()
    {
        async Task<string> Make()
        {
            await using var a = new Peer("Alice", o => { o.Seed = "oob-seed"; o.Endpoints.Add("http://alice.example"); });
            var r = await a.Oob.CreateInvitationAsync(new OobInvitationOptions { Attachments = [Oob.Ping("ping-0000001")], GoalCode = "p2p-messaging" });
            return r.Invitation.ToJsonString() + "|" + r.CreatedAt.ToString("O");
        }
        Assert.That(await Make(), Is.EqualTo(await Make()));
    }

    // ------------------------------------------------------------------ ClaimInvitation

    [Test]
    public async Task Claiming_an_unknown_or_missing_invitation_is_request_not_accepted_threaded_to_the_request()
    {
        await using var alice = new Peer("Alice");
        var replyTo = new ServiceRecord { RecipientKeys = ["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"], Endpoint = "http://bob.example" };
        var e = Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation("no-such-invitation", "didexchange/1.1", "request-1", replyTo));
        Assert.That(e!.Family, Is.EqualTo("didexchange/1.1"));
        Assert.That(e.Code, Is.EqualTo("request_not_accepted"));
        Assert.That(e.Explain, Does.Contain("missing reference to invitation"));
        Assert.That(e.ThreadId, Is.EqualTo("request-1"));
        Assert.That(e.ParentThreadId, Is.EqualTo("no-such-invitation"));
        Assert.That(e.ReplyTo, Is.SameAs(replyTo));

        var m = Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation("", "connections/1.0", "request-2", null));
        Assert.That(m!.Family, Is.EqualTo("connections/1.0"));
        Assert.That(m.Code, Is.EqualTo("request_not_accepted"));
        Assert.That(m.Explain, Does.Contain("missing reference to invitation"));
    }

    [Test]
    public async Task A_single_use_invitation_is_consumed_by_the_first_claim()
    {
        await using var alice = new Peer("Alice");
        var inv = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        var claimed = alice.Oob.ClaimInvitation(inv.Id, "didexchange/1.1", "request-1", null);
        Assert.That(claimed.Id, Is.EqualTo(inv.Id));
        Assert.That(claimed.UseCount, Is.EqualTo(1));

        var e = Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation(inv.Id, "didexchange/1.1", "request-2", null));
        Assert.That(e!.Code, Is.EqualTo("request_not_accepted"));
        Assert.That(e.Explain, Does.Contain("single-use"));
        Assert.That(e.ThreadId, Is.EqualTo("request-2"));
        Assert.That(alice.Agent.Store.GetInvitation(inv.Id)!.UseCount, Is.EqualTo(1), "a refused claim does not count");
    }

    [Test]
    public async Task A_single_use_invitation_is_consumed_once_under_concurrent_claims()
    {
        await using var alice = new Peer("Alice");
        var inv = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
        {
            try { alice.Oob.ClaimInvitation(inv.Id, "didexchange/1.1", $"request-{i}", null); return true; }
            catch (ProblemReportException) { return false; }
        })));
        Assert.That(outcomes.Count(x => x), Is.EqualTo(1));
        Assert.That(inv.UseCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_multi_use_invitation_allows_several_claims_and_counts_them()
    {
        await using var alice = new Peer("Alice");
        var inv = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { MultiUse = true });
        alice.Oob.ClaimInvitation(inv.Id, "didexchange/1.1", "request-1", null);
        var second = alice.Oob.ClaimInvitation(inv.Id, "didexchange/1.1", "request-2", null);
        Assert.That(second.UseCount, Is.EqualTo(2));
        Assert.That(second.MultiUse, Is.True);
    }

    [Test]
    public async Task An_expired_invitation_is_refused_and_expiry_stays_off_the_wire()
    {
        await using var alice = new Peer("Alice");
        var now = DateTimeOffset.UtcNow;
        var expired = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { MultiUse = true, ExpiresAt = now.AddSeconds(-1) });
        var live = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { ExpiresAt = now.AddHours(1) });

        Assert.That(expired.ExpiresAt, Is.EqualTo(now.AddSeconds(-1)));
        Assert.That(expired.Invitation.ToJsonString(), Does.Not.Contain("expire").And.Not.Contain("~timing"));

        var e = Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation(expired.Id, "didexchange/1.1", "request-1", null));
        Assert.That(e!.Code, Is.EqualTo("request_not_accepted"));
        Assert.That(e.Explain, Does.StartWith("expired invitation"));
        Assert.That(expired.UseCount, Is.Zero);
        Assert.That(alice.Oob.ClaimInvitation(live.Id, "didexchange/1.1", "request-2", null).UseCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_request_in_a_protocol_the_invitation_did_not_offer_is_refused_but_minor_versions_may_differ()
    {
        await using var alice = new Peer("Alice");
        var inv = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = ["https://didcomm.org/didexchange/1.0"], MultiUse = true });
        var e = Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation(inv.Id, "connections/1.0", "request-1", null));
        Assert.That(e!.Code, Is.EqualTo("request_not_accepted"));
        Assert.That(e.Explain, Does.Contain("did not offer connections/1.0"));
        // Credo answers a didexchange/1.0 invitation with 1.1 messages (shared/notes/credo-0.6.3.md): same major, accepted.
        Assert.That(alice.Oob.ClaimInvitation(inv.Id, "didexchange/1.1", "request-2", null).UseCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_request_to_the_public_DID_claims_the_standing_implicit_invitation()
    {
        await using var alice = new Peer("Alice");
        Assert.Throws<ProblemReportException>(() => alice.Oob.ClaimInvitation("did:peer:4zQmNotOurs", "didexchange/1.1", "r-1", null));
        var my = MyDids.Create(alice.Agent, "peer:4");
        alice.Agent.PublicDid = new PublicDid(my.Did, my.Key.Verkey, my.Document);
        var pthid = my.Did + "#didcomm-0";
        var first = alice.Oob.ClaimInvitation(pthid, "didexchange/1.1", "r-1", null);
        var second = alice.Oob.ClaimInvitation(pthid, "didexchange/1.1", "r-2", null);
        Assert.That(first.Kind, Is.EqualTo("public-did"));
        Assert.That(first.MultiUse, Is.True);
        Assert.That(first.RecipientKey, Is.EqualTo(my.Key.Verkey));
        Assert.That(second.UseCount, Is.EqualTo(2));
    }

    [Test]
    public void Rfc0360_known_answer_did_key_converts_as_the_invitation_writer_expects()
    {
        // shared/specs/aries-rfcs/0360-use-did-key/README.md: "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K becomes
        // did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th".
        Assert.That(DidKey.FromVerkey("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"), Is.EqualTo("did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"));
        Assert.That(Rfc0094.ToVerkey("did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"), Is.EqualTo("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"));
    }
}

using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Wire.Invitations;

namespace Conformance.Agent.Tests.OutOfBand;

/// <summary>RFC 0434 receiver side: reading and validating invitations, service resolution, handshake negotiation.</summary>
public class InvitationReceptionTests
{
    private static JsonObject Valid() => new()
    {
        ["@type"] = "https://didcomm.org/out-of-band/1.1/invitation",
        ["@id"] = "69212a3a-d068-4f9d-a2dd-4741bca89af3",
        ["handshake_protocols"] = new JsonArray("https://didcomm.org/didexchange/1.1"),
        ["services"] = new JsonArray(new JsonObject
        {
            ["id"] = "#inline",
            ["type"] = "did-communication",
            ["recipientKeys"] = new JsonArray("did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"),
            ["routingKeys"] = new JsonArray(),
            ["serviceEndpoint"] = "https://example.com:5000",
        }),
    };

    // ------------------------------------------------------------------ vectors from the RFCs

    [Test]
    public async Task The_RFC_0434_services_example_reads_and_the_unresolvable_did_sov_entry_is_skipped()
    {
        // shared/specs/aries-rfcs/0434-outofband/README.md §"The services Item", verbatim.
        var invitation = JsonNode.Parse("""
            {
              "@type": "https://didcomm.org/out-of-band/1.1/invitation",
              "@id": "<id used for context as pthid>",
              "label": "Faber College",
              "handshake_protocols": ["https://didcomm.org/didexchange/1.0"],
              "services": [
                {
                  "id": "#inline",
                  "type": "did-communication",
                  "recipientKeys": ["did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"],
                  "routingKeys": [],
                  "serviceEndpoint": "https://example.com:5000"
                },
                "did:sov:LjgpST2rjsoxYegQDRm7EL"
              ]
            }
            """)!.AsObject();
        var inv = OobInvitation.Parse(invitation);
        Assert.That(inv.Deviations, Is.Empty);
        Assert.That(inv.Label, Is.EqualTo("Faber College"));
        Assert.That(inv.HandshakeProtocols, Is.EqualTo(new[] { "https://didcomm.org/didexchange/1.0" }));
        Assert.That(inv.ServiceDids, Is.EqualTo(new[] { "did:sov:LjgpST2rjsoxYegQDRm7EL" }));
        // did:key z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH is the did:key specification's example key
        // (publicKeyBase58 B12NYF8RrR3h41TDCTJojY59usg3mbtbjnFs7Eud1Y6u).
        Assert.That(inv.InlineRecipientKeys, Is.EqualTo(new[] { "B12NYF8RrR3h41TDCTJojY59usg3mbtbjnFs7Eud1Y6u" }));

        await using var bob = new Peer("Bob");
        var problems = new List<string>();
        var services = await inv.ResolveServicesAsync(bob.Agent.Resolver, default, problems);
        Assert.That(services.Single().InlineId, Is.EqualTo("#inline"));
        Assert.That(services.Single().Service.Endpoint, Is.EqualTo("https://example.com:5000"));
        Assert.That(problems.Single(), Does.Contain("did:sov:LjgpST2rjsoxYegQDRm7EL"), "the did:sov entry cannot be resolved here and is skipped");
    }

    [Test]
    public async Task The_RFC_0434_example_URL_decodes_to_a_1_0_invitation_whose_only_service_is_unresolvable()
    {
        // shared/specs/aries-rfcs/0434-outofband/README.md §"Example Out-of-Band Message Encoding".
        const string url = "http://example.com/ssi?oob=eyJAdHlwZSI6Imh0dHBzOi8vZGlkY29tbS5vcmcvb3V0LW9mLWJhbmQvMS4wL2ludml0YXRpb24iLCJAaWQiOiI2OTIxMmEzYS1kMDY4LTRmOWQtYTJkZC00NzQxYmNhODlhZjMiLCJsYWJlbCI6IkZhYmVyIENvbGxlZ2UiLCJnb2FsX2NvZGUiOiJpc3N1ZS12YyIsImdvYWwiOiJUbyBpc3N1ZSBhIEZhYmVyIENvbGxlZ2UgR3JhZHVhdGUgY3JlZGVudGlhbCIsImhhbmRzaGFrZV9wcm90b2NvbHMiOlsiaHR0cHM6Ly9kaWRjb21tLm9yZy9kaWRleGNoYW5nZS8xLjAiLCJodHRwczovL2RpZGNvbW0ub3JnL2Nvbm5lY3Rpb25zLzEuMCJdLCJzZXJ2aWNlcyI6WyJkaWQ6c292OkxqZ3BTVDJyanNveFllZ1FEUm03RUwiXX0";
        var inv = OobInvitation.Parse(InvitationUrl.Decode(url).Message);
        Assert.That(inv.Id, Is.EqualTo("69212a3a-d068-4f9d-a2dd-4741bca89af3"));
        Assert.That(inv.Type.Minor, Is.EqualTo(0));
        Assert.That(inv.GoalCode, Is.EqualTo("issue-vc"));
        Assert.That(inv.HandshakeProtocols, Is.EqualTo(new[] { "https://didcomm.org/didexchange/1.0", "https://didcomm.org/connections/1.0" }));
        Assert.That(inv.Deviations, Has.Some.Contains("out-of-band/1.0"));

        await using var bob = new Peer("Bob");
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => inv.ResolveServicesAsync(bob.Agent.Resolver));
        Assert.That(e!.Message, Does.Contain("none of the invitation's services can be used").And.Contain("did:sov:LjgpST2rjsoxYegQDRm7EL"));
        var r = await Assert.ThrowsAsync<OutOfBandException>(() => bob.Oob.ReceiveInvitationUrlAsync("http://example.com/ssi?oob=e30", new OobReceiveOptions()));
        Assert.That(r!.Message, Does.Contain("missing @type"));
    }

    [Test]
    public void The_RFC_0496_example_with_service_singular_and_a_message_type_handshake_is_read_tolerantly()
    {
        // shared/specs/aries-rfcs/0496-transition-to-oob-and-did-exchange/README.md §"Connection Invitation—Inline
        // DIDDoc Service Entry" (the comma missing after "#inline" in the RFC text added, so that it is JSON).
        var invitation = JsonNode.Parse("""
            {
              "@type": "https://didcomm.org/out-of-band/1.0/invitation",
              "@id": "1234-1234-1234-1234",
              "label": "Faber College",
              "goal_code": "establish-connection",
              "goal": "To establish a connection",
              "handshake_protocols": ["did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/invitation"],
              "service": [
                  {
                    "id": "#inline",
                    "type": "did-communication",
                    "recipientKeys": ["did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"],
                    "routingKeys": [],
                    "serviceEndpoint": "https://example.com:5000"
                  }
              ]
            }
            """)!.AsObject();
        var inv = OobInvitation.Parse(invitation);
        Assert.That(inv.HandshakeProtocols, Is.EqualTo(new[] { "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0" }));
        Assert.That(inv.InlineRecipientKeys, Is.EqualTo(new[] { "B12NYF8RrR3h41TDCTJojY59usg3mbtbjnFs7Eud1Y6u" }));
        Assert.That(inv.Deviations, Has.Some.Contains("'service'"));
        Assert.That(inv.Deviations, Has.Some.Contains("names a message type"));
        Assert.That(OutOfBandProtocol.SelectHandshake(inv.HandshakeProtocols), Is.EqualTo("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0"));
    }

    [Test]
    public async Task A_handshake_protocol_without_doc_URI_means_the_community_protocol()
    {
        var json = Valid();
        json["handshake_protocols"] = new JsonArray("didexchange/1.0");
        var inv = OobInvitation.Parse(json);
        Assert.That(inv.HandshakeProtocols, Is.EqualTo(new[] { "https://didcomm.org/didexchange/1.0" }));
        Assert.That(inv.Deviations, Has.Some.Contains("has no doc URI"));

        await using var alice = new Peer("Alice");
        var r = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = ["didexchange/1.0", "https://didcomm.org/connections/1.0"] });
        Assert.That(r.HandshakeProtocols, Is.EqualTo(new[] { "https://didcomm.org/didexchange/1.0", "https://didcomm.org/connections/1.0" }));
    }

    [Test]
    public void Raw_base58_keys_from_RFC_0160_are_accepted_as_a_recorded_deviation()
    {
        var json = Valid();
        // shared/specs/aries-rfcs/0160-connection-protocol/README.md uses raw base58 keys.
        json["services"]![0]!["recipientKeys"] = new JsonArray("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K");
        json["services"]![0]!["routingKeys"] = new JsonArray("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K");
        var inv = OobInvitation.Parse(json);
        Assert.That(inv.InlineRecipientKeys, Is.EqualTo(new[] { "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K" }));
        Assert.That(inv.Deviations.Count(d => d.Contains("not a did:key")), Is.EqualTo(2));
    }

    // ------------------------------------------------------------------ invalid invitations

    private static IEnumerable<TestCaseData> InvalidInvitations()
    {
        TestCaseData Case(string name, Action<JsonObject> mutate, string expected) =>
            new TestCaseData(mutate, expected).SetName("Invalid invitation: " + name);

        yield return Case("neither handshake_protocols nor requests~attach", j => j.Remove("handshake_protocols"),
            "One or both of handshake_protocols and requests~attach MUST be included");
        yield return Case("empty handshake_protocols and requests~attach", j => { j["handshake_protocols"] = new JsonArray(); j["requests~attach"] = new JsonArray(); },
            "One or both of handshake_protocols and requests~attach MUST be included");
        yield return Case("handshake_protocols only of garbage", j => j["handshake_protocols"] = new JsonArray("not a protocol"),
            "only empty or unusable ones");
        yield return Case("handshake_protocols not an array", j => j["handshake_protocols"] = "https://didcomm.org/didexchange/1.1",
            "handshake_protocols must be an array");
        yield return Case("a connections/1.0 invitation", j => j["@type"] = "https://didcomm.org/connections/1.0/invitation",
            "RFC 0160 connections/1.0 invitation");
        yield return Case("another message type", j => j["@type"] = "https://didcomm.org/out-of-band/1.1/handshake-reuse",
            "is not an out-of-band/1.x invitation");
        yield return Case("out-of-band 2.0", j => j["@type"] = "https://didcomm.org/out-of-band/2.0/invitation",
            "is not an out-of-band/1.x invitation");
        yield return Case("no @id", j => j.Remove("@id"), "missing @id");
        yield return Case("no services", j => j.Remove("services"), "services is missing");
        yield return Case("services not an array", j => j["services"] = "did:sov:LjgpST2rjsoxYegQDRm7EL", "services must be an array");
        yield return Case("empty services", j => j["services"] = new JsonArray(), "no did-communication entry");
        yield return Case("only a DIDCommMessaging service", j => j["services"]![0]!["type"] = "DIDCommMessaging", "no did-communication entry");
        yield return Case("a services entry that is no DID", j => j["services"] = new JsonArray("https://example.com"), "neither a DID nor a service block");
        yield return Case("a services entry that is a number", j => j["services"] = new JsonArray(5), "must be a DID or a service object");
        yield return Case("empty recipientKeys", j => j["services"]![0]!["recipientKeys"] = new JsonArray(), "recipientKeys must be a non-empty array");
        yield return Case("a bad did:key", j => j["services"]![0]!["recipientKeys"] = new JsonArray("did:key:z6MkNOTAKEY"), "recipientKeys");
        yield return Case("an X25519 did:key", j => j["services"]![0]!["recipientKeys"] = new JsonArray("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"), "Ed25519");
        yield return Case("a bad routing key", j => j["services"]![0]!["routingKeys"] = new JsonArray("xyz"), "routingKeys");
        yield return Case("no serviceEndpoint", j => ((JsonObject)j["services"]![0]!).Remove("serviceEndpoint"), "serviceEndpoint is missing");
        yield return Case("requests~attach with a non-message", j => j["requests~attach"] = new JsonArray(new JsonObject { ["@id"] = "r0", ["data"] = new JsonObject { ["json"] = new JsonObject { ["x"] = 1 } } }),
            "requests~attach 'r0' is not a DIDComm message");
        yield return Case("requests~attach with links only", j => j["requests~attach"] = new JsonArray(new JsonObject { ["@id"] = "r0", ["data"] = new JsonObject { ["links"] = new JsonArray("https://x") } }),
            "links are not fetched");
        yield return Case("requests~attach with a bad base64", j => j["requests~attach"] = new JsonArray(new JsonObject { ["@id"] = "r0", ["data"] = new JsonObject { ["base64"] = "!!!" } }),
            "not valid base64");
    }

    [TestCaseSource(nameof(InvalidInvitations))]
    public async Task Invalid_invitations_are_rejected_with_a_clear_one_line_reason(Action<JsonObject> mutate, string expected)
    {
        var json = Valid();
        mutate(json);
        var e = Assert.Throws<OutOfBandException>(() => OobInvitation.Parse(json));
        Assert.That(e!.Message, Does.StartWith("invalid out-of-band invitation: ").And.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain("\n"));

        // The same through the agent's entry point, which stores nothing and sends nothing.
        await using var bob = new Peer("Bob");
        var r = await Assert.ThrowsAsync<OutOfBandException>(() => bob.Oob.ReceiveInvitationAsync(json, new OobReceiveOptions()));
        Assert.That(r!.Message, Does.Contain(expected));
        Assert.That(bob.Agent.Store.Connections(), Is.Empty);
    }

    [Test]
    public void A_base64_attached_request_is_read_like_a_json_one()
    {
        var json = Valid();
        var ping = Oob.Ping("ping-00000001");
        json["requests~attach"] = new JsonArray(new JsonObject
        {
            ["@id"] = "request-0",
            ["mime-type"] = "application/json",
            ["data"] = new JsonObject { ["base64"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(ping.ToJsonString())) },
        });
        var inv = OobInvitation.Parse(json);
        Assert.That(JsonNode.DeepEquals(inv.Requests.Single().Json, ping), Is.True);
    }

    // ------------------------------------------------------------------ services

    [Test]
    public async Task A_service_endpoint_that_is_a_DID_routes_through_that_DIDs_key()
    {
        // RFC 0434 §Service Endpoint: "If the endpoint is itself a DID, the serviceEndpoint in the DIDDoc of the resolved
        // DID MUST be a URI, and the recipientKeys MUST contain a single key. That key is appended to the end of the list of routingKeys".
        await using var mediator = new Peer("Mediator", o => o.Endpoints.Add("http://mediator.example"));
        var mediatorDid = MyDids.Create(mediator.Agent, "peer:4");
        var json = Valid();
        json["services"]![0]!["routingKeys"] = new JsonArray("did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH");
        json["services"]![0]!["serviceEndpoint"] = mediatorDid.Did;

        await using var bob = new Peer("Bob");
        var s = (await OobInvitation.Parse(json).ResolveServicesAsync(bob.Agent.Resolver)).Single().Service;
        Assert.That(s.Endpoint, Is.EqualTo("http://mediator.example"));
        Assert.That(s.RecipientKeys, Is.EqualTo(new[] { "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K" }));
        Assert.That(s.RoutingKeys, Is.EqualTo(new[] { "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", mediatorDid.Key.Verkey }));
    }

    [Test]
    public async Task Services_keep_the_senders_order_and_a_DID_URL_picks_its_service()
    {
        await using var alice = new Peer("Alice", o => o.Endpoints.Add("http://alice.example"));
        var did = MyDids.Create(alice.Agent, "peer:4");
        var json = Valid();
        ((JsonArray)json["services"]!).Insert(0, did.Did + "#didcomm-0");
        ((JsonArray)json["services"]!).Add(did.Did + "#no-such-service");
        await using var bob = new Peer("Bob");
        var problems = new List<string>();
        var services = await OobInvitation.Parse(json).ResolveServicesAsync(bob.Agent.Resolver, default, problems);
        Assert.That(services.Select(s => s.Service.Endpoint), Is.EqualTo(new[] { "http://alice.example", "https://example.com:5000" }));
        Assert.That(services[0].Did, Is.EqualTo(did.Did));
        Assert.That(problems.Single(), Does.Contain("no DIDComm v1 service"));
    }

    // ------------------------------------------------------------------ negotiation

    [TestCase(new[] { "https://didcomm.org/unknown/9.0", "https://didcomm.org/connections/1.0" }, "https://didcomm.org/connections/1.0")]
    [TestCase(new[] { "https://didcomm.org/didexchange/1.0", "https://didcomm.org/didexchange/1.1" }, "https://didcomm.org/didexchange/1.0")]
    [TestCase(new[] { "https://didcomm.org/didexchange/1.1", "https://didcomm.org/didexchange/1.0" }, "https://didcomm.org/didexchange/1.1")]
    [TestCase(new[] { "https://didcomm.org/connections/1.0", "https://didcomm.org/didexchange/1.1" }, "https://didcomm.org/connections/1.0")]
    [TestCase(new[] { "https://didcomm.org/didexchange/1.7" }, "https://didcomm.org/didexchange/1.1")]
    [TestCase(new[] { "https://didcomm.org/didexchange/2.0", "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0" }, "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0")]
    [TestCase(new[] { "https://example.org/didexchange/1.0", "https://didcomm.org/didexchange/1.1/" }, "https://didcomm.org/didexchange/1.1")]
    public void Negotiation_picks_the_first_offered_protocol_this_agent_speaks(string[] offered, string expected)
    {
        // "handshake_protocols - an array of protocols in the order of preference of the sender"
        Assert.That(OutOfBandProtocol.SelectHandshake(offered), Is.EqualTo(expected));
    }

    [Test]
    public void Negotiation_finds_nothing_to_speak_or_obeys_a_preferred_protocol()
    {
        Assert.That(OutOfBandProtocol.SelectHandshake(["https://didcomm.org/unknown/9.0", "https://didcomm.org/didexchange/2.0"]), Is.Null);
        Assert.That(OutOfBandProtocol.SelectHandshake(["https://didcomm.org/didexchange/1.1"], "https://didcomm.org/connections/1.0"),
            Is.EqualTo("https://didcomm.org/connections/1.0"));
        var e = Assert.Throws<OutOfBandException>(() => OutOfBandProtocol.SelectHandshake(["https://didcomm.org/didexchange/1.1"], "https://didcomm.org/unknown/1.0"));
        Assert.That(e!.Message, Does.Contain("PreferredHandshake"));
    }

    [Test]
    public async Task An_invitation_offering_only_unknown_handshakes_is_refused_without_side_effects()
    {
        await using var bob = new Peer("Bob");
        var json = Valid();
        json["handshake_protocols"] = new JsonArray("https://didcomm.org/unknown/9.0", "https://didcomm.org/didexchange/2.0");
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => bob.Oob.ReceiveInvitationAsync(json, new OobReceiveOptions()));
        Assert.That(e!.Message, Does.Contain("none of the invitation's handshake protocols is supported").And.Contain("unknown/9.0"));
        Assert.That(bob.Agent.Store.Connections(), Is.Empty);
    }

    [Test]
    public async Task An_unknown_reuse_style_is_refused()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var inv = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        Handshake.ByHand(alice, bob, inv);
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseStyle = "telepathy" }));
        Assert.That(e!.Message, Does.Contain("ReuseStyle 'telepathy'"));
    }
}

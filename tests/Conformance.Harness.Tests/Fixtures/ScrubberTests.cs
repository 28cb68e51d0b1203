using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Harness.Tests.Fixtures;

public class ScrubberTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static List<JsonObject> Plain(List<FixtureMessage> t) => t.Select(m => m.Plaintext).ToList();

    private static string Str(JsonNode? n) => n!.GetValue<string>();

    [Test]
    public void Request_id_and_response_thid_get_the_same_placeholder()
    {
        // RFC 0023: the response's ~thread.thid is the request's @id; its pthid is the invitation's @id.
        var t = Plain(Transcripts.DidExchangeFlow("a", 40001, T0));
        var s = Scrubber.Scrub(t);
        var (invitation, request, response, complete) = (s[0], s[1], s[2], s[3]);

        Assert.That(Str(request["@id"]), Does.Match("^<id-\\d+>$"));
        Assert.That(Str(response["~thread"]!["thid"]), Is.EqualTo(Str(request["@id"])));
        Assert.That(Str(request["~thread"]!["thid"]), Is.EqualTo(Str(request["@id"])));
        Assert.That(Str(complete["~thread"]!["thid"]), Is.EqualTo(Str(request["@id"])));
        Assert.That(Str(request["~thread"]!["pthid"]), Is.EqualTo(Str(invitation["@id"])));
        Assert.That(Str(response["@id"]), Is.Not.EqualTo(Str(request["@id"])));
        // Numbered by first appearance: the invitation's @id is the first id of the transcript.
        Assert.That(Str(invitation["@id"]), Is.EqualTo("<id-1>"));
        Assert.That(Str(request["@id"]), Is.EqualTo("<id-2>"));
    }

    [Test]
    public void Non_uuid_ids_are_linked_too_even_where_they_appear_before_their_id_field()
    {
        // RFC 0023 problem_report example: "@id": "5678876542345" and a thid pointing at it.
        var first = new JsonObject
        {
            ["@type"] = "https://didcomm.org/report-problem/1.0/problem-report",
            ["@id"] = "x-1",
            ["description"] = new JsonObject { ["en"] = "no request 12345678900987654321 known", ["code"] = "request_not_accepted" },
        };
        var second = new JsonObject
        {
            ["@type"] = "https://didcomm.org/connections/1.0/response",
            ["@id"] = "12345678900987654321",
        };
        var third = new JsonObject { ["@type"] = "https://didcomm.org/trust_ping/1.0/ping", ["~thread"] = new JsonObject { ["thid"] = "12345678900987654321" } };
        var s = Scrubber.Scrub([first, second, third]);

        var id = Str(s[1]["@id"]);
        Assert.That(Str(s[2]["~thread"]!["thid"]), Is.EqualTo(id));
        Assert.That(Str(s[0]["description"]!["en"]), Is.EqualTo($"no request {id} known"));
        Assert.That(Str(s[0]["description"]!["code"]), Is.EqualTo("request_not_accepted"));
        Assert.That(Str(s[0]["@type"]), Is.EqualTo("https://didcomm.org/report-problem/1.0/problem-report"));
    }

    [Test]
    public void Same_transcript_scrubs_to_identical_bytes_and_different_volatile_values_to_the_same_bytes()
    {
        static string Bytes(List<JsonObject> s) => string.Concat(s.Select(GoldenFile.Serialize));

        var a1 = Bytes(Scrubber.Scrub(Plain(Transcripts.DidExchangeFlow("run-1", 40001, T0))));
        var a2 = Bytes(Scrubber.Scrub(Plain(Transcripts.DidExchangeFlow("run-1", 40001, T0))));
        var b = Bytes(Scrubber.Scrub(Plain(Transcripts.DidExchangeFlow("run-2", 51234, T0.AddHours(3)))));

        Assert.That(a2, Is.EqualTo(a1));
        Assert.That(b, Is.EqualTo(a1), "another run: other keys, ids, DIDs, signatures, ports and times");

        // And a real difference still shows.
        var c = Bytes(Scrubber.Scrub(Plain(Transcripts.DidExchangeFlow("run-2", 51234, T0, label: "Robert"))));
        Assert.That(c, Is.Not.EqualTo(a1));
    }

    [Test]
    public void Scrubbing_does_not_modify_the_input()
    {
        var t = Plain(Transcripts.DidExchangeFlow("a", 40001, T0));
        var before = string.Concat(t.Select(m => m.ToJsonString()));
        Scrubber.Scrub(t);
        Assert.That(string.Concat(t.Select(m => m.ToJsonString())), Is.EqualTo(before));
    }

    [Test]
    public void Did_urls_keep_their_path_and_fragment_and_did_key_fragments_name_the_key()
    {
        const string mb = "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc";   // decentralized-identity/did-peer-2 test vector key
        var m = new JsonObject
        {
            ["@type"] = "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/request",
            ["@id"] = "1",
            ["a"] = "did:web:example.com",
            ["b"] = "did:web:example.com#key-1",
            ["c"] = "did:web:example.com:user:alice/path?versionId=1#key-2",
            ["d"] = "did:key:" + mb + "#" + mb,
            ["e"] = mb,
            ["f"] = "the key of did:web:example.com. Unknown: did:example:123456789abcdefghi.",
            ["g"] = "did:sov:QUmsj7xwB82QAuuzfmvhAi;indy",                   // RFC 0160 DIDDoc example
        };
        var s = Scrubber.Scrub(m);

        Assert.That(Str(s["@type"]), Is.EqualTo("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/request"), "the legacy type prefix is vocabulary");
        Assert.That(Str(s["a"]), Is.EqualTo("<did-1>"));
        Assert.That(Str(s["b"]), Is.EqualTo("<did-1>#key-1"));
        Assert.That(Str(s["c"]), Is.EqualTo("<did-2>/path?versionId=1#key-2"));
        Assert.That(Str(s["d"]), Is.EqualTo("<didkey-1>#<key-1>"));
        Assert.That(Str(s["e"]), Is.EqualTo("<key-1>"), "the multibase key is the did:key's key");
        Assert.That(Str(s["f"]), Is.EqualTo("the key of <did-1>. Unknown: <did-3>."));
        Assert.That(Str(s["g"]), Is.EqualTo("<did-4>;indy"));
    }

    [Test]
    public void Member_names_that_are_dids_are_scrubbed_in_place()
    {
        // RFC 0008: "received_orders": {"did:sov:abcxyz": 1} — an object keyed by DIDs.
        var m = new JsonObject
        {
            ["@id"] = "1",
            ["from"] = "did:peer:2.Ez6LSexample",
            ["~thread"] = new JsonObject
            {
                ["thid"] = "1",
                ["sender_order"] = 3,
                ["received_orders"] = new JsonObject { ["did:sov:abcxyz"] = 1, ["did:peer:2.Ez6LSexample"] = 2, ["short"] = 3 },
            },
        };
        var s = Scrubber.Scrub(m);
        var orders = s["~thread"]!["received_orders"]!.AsObject();
        Assert.That(orders.Select(kv => kv.Key), Is.EqualTo(new[] { "<did-2>", "<did-1>", "short" }));
        Assert.That(orders["<did-1>"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(s["~thread"]!["sender_order"]!.GetValue<int>(), Is.EqualTo(3));
    }

    [Test]
    public void A_key_reads_the_same_as_verkey_multibase_and_did_key()
    {
        var key = Ed25519KeyPair.Generate(Entropy.Seeded("k"));
        var m = new JsonObject
        {
            ["@id"] = "1",
            ["verkey"] = key.Verkey,
            ["multibase"] = Multibase.EncodeKey(KeyCodec.Ed25519Pub, key.PublicKey),
            ["kid"] = "did:key:" + Multibase.EncodeKey(KeyCodec.Ed25519Pub, key.PublicKey),
            ["jwk"] = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = Base64Url.Encode(key.PublicKey) },
            ["other"] = Ed25519KeyPair.Generate(Entropy.Seeded("other")).Verkey,
        };
        var s = Scrubber.Scrub(m);
        Assert.That(Str(s["verkey"]), Is.EqualTo("<key-1>"));
        Assert.That(Str(s["multibase"]), Is.EqualTo("<key-1>"));
        Assert.That(Str(s["kid"]), Is.EqualTo("<didkey-1>"));
        Assert.That(Str(s["jwk"]!["x"]), Is.EqualTo("<key-1>"));
        Assert.That(Str(s["jwk"]!["kty"]), Is.EqualTo("OKP"));
        Assert.That(Str(s["other"]), Is.EqualTo("<key-2>"));
    }

    [Test]
    public void Base64_json_attachment_is_decoded_and_scrubbed_with_the_same_placeholders()
    {
        var s = Scrubber.Scrub(Plain(Transcripts.DidExchangeFlow("a", 40001, T0)));
        var request = s[1];
        var data = request["did_doc~attach"]!["data"]!;

        var decoded = data["base64"]!.AsObject();
        Assert.That(Str(decoded["$decoded"]), Is.EqualTo("base64"));
        var doc = decoded["json"]!;
        var did = Str(request["did"]);
        Assert.That(did, Does.Match("^<did-\\d+>$"));
        Assert.That(Str(doc["id"]), Is.EqualTo(did), "the DID inside the attachment is the message's did");
        Assert.That(Str(doc["verificationMethod"]![0]!["id"]), Is.EqualTo(did + "#key-1"));
        Assert.That(Str(doc["verificationMethod"]![0]!["type"]), Is.EqualTo("Ed25519VerificationKey2018"));
        Assert.That(Str(doc["verificationMethod"]![0]!["publicKeyBase58"]), Does.Match("^<key-\\d+>$"));
        Assert.That(Str(doc["service"]![0]!["serviceEndpoint"]), Does.Match("^http://127\\.0\\.0\\.1:<port-\\d+>$"));

        // The JWS: protected header decoded too; its jwk.x and kid name the same key as the document.
        var jws = data["jws"]!;
        var key = Str(doc["verificationMethod"]![0]!["publicKeyBase58"]);
        var header = jws["protected"]!["json"]!;
        Assert.That(Str(header["alg"]), Is.EqualTo("EdDSA"));
        Assert.That(Str(header["jwk"]!["x"]), Is.EqualTo(key));
        Assert.That(Str(header["kid"]), Is.EqualTo("<didkey-" + key[5..]));
        Assert.That(Str(jws["header"]!["kid"]), Is.EqualTo(Str(header["kid"])));
        Assert.That(Str(jws["signature"]), Does.Match("^<sig-\\d+>$"));
        Assert.That(GoldenFile.Serialize(request), Does.Not.Contain("eyJ"), "no base64 JSON left undecoded");
    }

    [Test]
    public void Connection_sig_data_is_decoded_and_its_timestamp_scrubbed()
    {
        // RFC 0234: sig_data = base64url(u64 timestamp || JSON of the connection attribute).
        var requestId = Guid.NewGuid().ToString();
        var request = new JsonObject { ["@type"] = "https://didcomm.org/connections/1.0/request", ["@id"] = requestId };
        var s = Scrubber.Scrub([request, Transcripts.ConnectionResponse("s", requestId, T0)]);
        var sig = s[1]["connection~sig"]!;
        var sigData = sig["sig_data"]!;
        Assert.That(Str(sigData["$decoded"]), Is.EqualTo("sig_data"));
        Assert.That(Str(sigData["timestamp"]), Is.EqualTo("<time-1>"));
        var conn = sigData["json"]!;
        var did = Str(conn["DID"]);
        Assert.That(did, Does.Match("^<did-\\d+>$"), "RFC 0160's unqualified base58 DID");
        Assert.That(Str(conn["DIDDoc"]!["publicKey"]![0]!["id"]), Is.EqualTo(did + "#1"));
        Assert.That(Str(conn["DIDDoc"]!["publicKey"]![0]!["controller"]), Is.EqualTo(did));
        Assert.That(Str(sig["signer"]), Is.EqualTo(Str(conn["DIDDoc"]!["publicKey"]![0]!["publicKeyBase58"])), "signer and DIDDoc key are one key");
        Assert.That(Str(sig["signature"]), Does.Match("^<sig-\\d+>$"));
        Assert.That(Str(s[1]["~thread"]!["thid"]), Is.EqualTo(Str(s[0]["@id"])));
    }

    [Test]
    public void Times_and_ports_are_scrubbed_and_equal_values_share_a_placeholder()
    {
        var m = new JsonObject
        {
            ["@id"] = "1",
            ["~timing"] = new JsonObject { ["out_time"] = "2019-01-23 18:03:27.123Z", ["expires_time"] = "2019-01-23T18:03:27+01:00" },
            ["created_time"] = 1700000000,
            ["count"] = 1700000000,
            ["again"] = "sent at 2019-01-23 18:03:27.123Z, retry",
            ["endpoint"] = "ws://localhost:61000/ws",
            ["other_endpoint"] = "http://127.0.0.1:61000",
            ["public"] = "https://agent.example.com:8443/didcomm",
        };
        var s = Scrubber.Scrub(m);
        Assert.That(Str(s["~timing"]!["out_time"]), Is.EqualTo("<time-1>"));
        Assert.That(Str(s["~timing"]!["expires_time"]), Is.EqualTo("<time-2>"));
        Assert.That(Str(s["created_time"]), Is.EqualTo("<time-3>"));
        Assert.That(s["count"]!.GetValue<int>(), Is.EqualTo(1700000000), "numbers outside time fields stay");
        Assert.That(Str(s["again"]), Is.EqualTo("sent at <time-1>, retry"));
        Assert.That(Str(s["endpoint"]), Is.EqualTo("ws://localhost:<port-1>/ws"));
        Assert.That(Str(s["other_endpoint"]), Is.EqualTo("http://127.0.0.1:<port-1>"));
        Assert.That(Str(s["public"]), Is.EqualTo("https://agent.example.com:8443/didcomm"), "a configured public port is not ephemeral");
    }

    [Test]
    public void Vocabulary_and_short_strings_are_kept()
    {
        var m = new JsonObject
        {
            ["@type"] = "https://didcomm.org/didexchange/1.1/request",
            ["@id"] = "abc",
            ["label"] = "Bob",
            ["goal_code"] = "aries.rel.build",
            ["type"] = "Ed25519Signature2018",
            ["service_type"] = "Ed25519SignatureAuthentication2018",
            ["accept"] = new JsonArray("didcomm/aip2;env=rfc19"),
            ["response_requested"] = true,
        };
        var s = Scrubber.Scrub(m);
        foreach (var k in new[] { "@type", "label", "goal_code", "type", "service_type" })
            Assert.That(Str(s[k]), Is.EqualTo(Str(m[k])), k);
        Assert.That(Str(s["accept"]![0]), Is.EqualTo("didcomm/aip2;env=rfc19"));
        Assert.That(s["response_requested"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void Opaque_base64_and_signatures_get_their_own_placeholders()
    {
        var sig = Base64Url.Encode(Entropy.Seeded("s").Bytes(64));
        var blob = Convert.ToBase64String(Entropy.Seeded("b").Bytes(48));
        var m = new JsonObject
        {
            ["@id"] = "1",
            ["signature"] = sig,
            ["data"] = new JsonObject { ["base64"] = blob },
            ["copy"] = new JsonObject { ["base64"] = blob },
            ["text"] = new JsonObject { ["base64"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("B.did@B:A")) },
        };
        var s = Scrubber.Scrub(m);
        Assert.That(Str(s["signature"]), Is.EqualTo("<sig-1>"));
        Assert.That(Str(s["data"]!["base64"]), Is.EqualTo("<b64-1>"));
        Assert.That(Str(s["copy"]!["base64"]), Is.EqualTo("<b64-1>"));
        Assert.That(Str(s["text"]!["base64"]!["text"]), Is.EqualTo("B.did@B:A"), "base64 text (RFC 0023 did_rotate example) is shown decoded");
    }

    [Test]
    public void Keep_raw_policy_keeps_every_value()
    {
        var t = Plain(Transcripts.DidExchangeFlow("a", 40001, T0));
        var s = Scrubber.Scrub(t, ScrubPolicy.KeepRaw);
        Assert.That(s.Select(GoldenFile.Serialize), Is.EqualTo(t.Select(GoldenFile.Serialize)));
    }

    [Test]
    public void A_policy_can_keep_one_category()
    {
        var t = Plain(Transcripts.DidExchangeFlow("a", 40001, T0));
        var s = Scrubber.Scrub(t, ScrubPolicy.Default with { Ids = false });
        Assert.That(Str(s[1]["@id"]), Is.EqualTo(Str(t[1]["@id"])));
        Assert.That(Str(s[1]["did"]), Does.StartWith("<did-"));
    }
}

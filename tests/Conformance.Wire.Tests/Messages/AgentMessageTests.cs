using System.Text.Json.Nodes;
using Conformance.Wire.Messages;
using FsCheck;
using FsCheck.Fluent;

namespace Conformance.Wire.Tests.Messages;

public class AgentMessageTests
{
    // RFC 0008 §"Threaded Messages" example, verbatim.
    private const string Rfc0008Threaded = """
        {
            "@type": "did:example:12345...;spec/example_family/1.0/example_type",
            "@id": "98fd8d72-80f6-4419-abc2-c65ea39d0f38",
            "~thread": {
                "thid": "98fd8d72-80f6-4419-abc2-c65ea39d0f38",
                "pthid": "1e513ad4-48c9-444e-9e7e-5b8b45c5e325",
                "sender_order": 3,
                "received_orders": {"did:sov:abcxyz":1},
                "goal_code": "aries.vc.issue"
            },
            "example_attribute": "example_value"
        }
        """;

    // RFC 0023 §"Response Message Example" (did_rotate~attach carries base64 "Qi5kaWRAQjpB" = "B.did@B:A").
    private const string Rfc0023Response = """
        {
          "@type": "https://didcomm.org/didexchange/1.1/response",
          "@id": "12345678900987654321",
          "~thread": {
            "thid": "<The Thread ID is the Message ID (@id) of the first message in the thread>"
          },
          "did": "B.did@B:A",
          "did_rotate~attach": {
             "mime-type": "text/string",
             "data": {
                "base64": "Qi5kaWRAQjpB",
                "jws": {
                "header": {
                   "kid": "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"
                },
                "protected": "eyJhbGciOiJFZERTQSIsImlhdCI6MTU4Mzg4... (bytes omitted)",
                "signature": "3dZWsuru7QAVFUCtTd0s7uc1peYEijx4eyt5... (bytes omitted)"
                }
             }
          }
        }
        """;

    [Test]
    public void Parses_the_RFC0008_threaded_example()
    {
        var m = AgentMessage.Parse(Rfc0008Threaded);
        Assert.That(m.Id, Is.EqualTo("98fd8d72-80f6-4419-abc2-c65ea39d0f38"));
        Assert.That(m.Type.Protocol, Is.EqualTo("example_family"));
        Assert.That(m.Thread!.Thid, Is.EqualTo("98fd8d72-80f6-4419-abc2-c65ea39d0f38"));
        Assert.That(m.ThreadId, Is.EqualTo("98fd8d72-80f6-4419-abc2-c65ea39d0f38"));
        Assert.That(m.ParentThreadId, Is.EqualTo("1e513ad4-48c9-444e-9e7e-5b8b45c5e325"));
        Assert.That(m.Thread.SenderOrder, Is.EqualTo(3));
        Assert.That(m.Thread.ReceivedOrders, Is.EquivalentTo(new Dictionary<string, int> { ["did:sov:abcxyz"] = 1 }));
        Assert.That(m.GetString("example_attribute"), Is.EqualTo("example_value"));
        Assert.That(m.HasWellFormedId, Is.True);
        // Nothing is lost: goal_code (not modelled) and unknown members survive a round trip.
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(m.ToJsonString()), JsonNode.Parse(Rfc0008Threaded)), Is.True);
        Assert.That(m.ToJsonString(), Does.Contain("\"goal_code\":\"aries.vc.issue\""));
    }

    [Test]
    public void Implicit_thread_is_the_message_id_and_empty_thread_is_handled()
    {
        // RFC 0008: "if the Thread object is not defined in a message, the Thread ID is implicitly defined as the
        // Message ID"; "Aries agents receiving a message with an empty ~thread item MUST gracefully handle such a message."
        var plain = AgentMessage.Parse("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"518be002-de8e-456e-b3d5-8fe472477a86"}""");
        Assert.That(plain.Thread, Is.Null);
        Assert.That(plain.ThreadId, Is.EqualTo(plain.Id));
        Assert.That(plain.ParentThreadId, Is.Null);

        var empty = AgentMessage.Parse("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"518be002-de8e-456e-b3d5-8fe472477a86","~thread":{}}""");
        Assert.That(empty.Thread!.IsEmpty, Is.True);
        Assert.That(empty.ThreadId, Is.EqualTo(empty.Id));

        // A pthid-only thread (RFC 0434 responses to an invitation) still has the implicit thid.
        var pthidOnly = AgentMessage.Parse("""{"@type":"https://didcomm.org/didexchange/1.1/request","@id":"a46cdd0f-a2ca-4d12-afbf-2e78a6f1f3ef","~thread":{"pthid":"032fbd19-f6fd-48c5-9197-ba9a47040470"}}""");
        Assert.That(pthidOnly.ThreadId, Is.EqualTo("a46cdd0f-a2ca-4d12-afbf-2e78a6f1f3ef"));
        Assert.That(pthidOnly.ParentThreadId, Is.EqualTo("032fbd19-f6fd-48c5-9197-ba9a47040470"));
    }

    [Test]
    public void Reads_the_RFC0023_response_and_its_did_rotate_attachment()
    {
        var m = AgentMessage.Parse(Rfc0023Response);
        Assert.That(m.Type.Matches("didexchange", 1, "response"), Is.True);
        var rotate = m.Attachments("did_rotate~attach");
        Assert.That(rotate, Has.Count.EqualTo(1));
        Assert.That(rotate[0].MimeType, Is.EqualTo("text/string"));
        Assert.That(System.Text.Encoding.UTF8.GetString(rotate[0].Bytes()), Is.EqualTo("B.did@B:A"));
        Assert.That(rotate[0].Jws!["header"]!["kid"]!.GetValue<string>(), Is.EqualTo("did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"));
        Assert.That(m.Attachments("did_doc~attach"), Is.Empty);
        // The RFC's "@id" here is 20 digits: it matches 0008's [-_./a-zA-Z0-9]{8,64}.
        Assert.That(m.HasWellFormedId, Is.True);
    }

    [TestCase("all")]
    [TestCase("none")]
    [TestCase("thread")]
    public void Reads_the_RFC0092_return_route(string value)
    {
        var m = AgentMessage.Parse($$$"""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"518be002-de8e-456e-b3d5-8fe472477a86","~transport":{"return_route":"{{{value}}}"}}""");
        Assert.That(m.ReturnRoute, Is.EqualTo(value));
    }

    [Test]
    public void Return_route_is_null_when_absent()
        => Assert.That(AgentMessage.Parse("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~transport":{}}""").ReturnRoute, Is.Null);

    [Test]
    public void Parses_utf8_bytes_the_same_as_text()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(Rfc0008Threaded);
        var a = AgentMessage.Parse(bytes);
        Assert.That(a.ToJsonString(), Is.EqualTo(AgentMessage.Parse(Rfc0008Threaded).ToJsonString()));
        Assert.That(a.ToUtf8(), Is.EqualTo(System.Text.Encoding.UTF8.GetBytes(a.ToJsonString())));
    }

    [Test]
    public void Create_and_WithThread_build_messages_without_touching_the_original()
    {
        var type = MessageType.Parse("https://didcomm.org/didexchange/1.1/complete");
        var m = AgentMessage.Create(type, "12345678900987654321");
        Assert.That(m.ToJsonString(), Is.EqualTo("""{"@type":"https://didcomm.org/didexchange/1.1/complete","@id":"12345678900987654321"}"""));

        var threaded = m.WithThread("thread-0001", "invite-0001");
        Assert.That(threaded.ThreadId, Is.EqualTo("thread-0001"));
        Assert.That(threaded.ParentThreadId, Is.EqualTo("invite-0001"));
        Assert.That(threaded.ToJsonString(), Does.EndWith("""
            "~thread":{"thid":"thread-0001","pthid":"invite-0001"}}
            """));
        Assert.That(m.Thread, Is.Null, "the original is unchanged");

        // Other ~thread members are kept; clearing thid/pthid on an otherwise empty thread removes it.
        var ordered = AgentMessage.Parse(Rfc0008Threaded).WithThread("new-thid-123", null);
        Assert.That(ordered.Thread!.Thid, Is.EqualTo("new-thid-123"));
        Assert.That(ordered.Thread.Pthid, Is.Null);
        Assert.That(ordered.Thread.SenderOrder, Is.EqualTo(3));
        Assert.That(ordered.Thread.ReceivedOrders!["did:sov:abcxyz"], Is.EqualTo(1));
        Assert.That(ordered.Json["~thread"]!["goal_code"]!.GetValue<string>(), Is.EqualTo("aries.vc.issue"));
        Assert.That(threaded.WithThread(null, null).Json.ContainsKey("~thread"), Is.False);

        var labelled = m.With("label", "Bob");
        Assert.That(labelled.GetString("label"), Is.EqualTo("Bob"));
        Assert.That(labelled.With("label", null).GetString("label"), Is.Null);
    }

    [Test]
    public void FromJson_copies_its_input()
    {
        var o = (JsonObject)JsonNode.Parse(Rfc0008Threaded)!;
        var m = AgentMessage.FromJson(o);
        o["@id"] = "changed-after-the-fact";
        Assert.That(m.Id, Is.EqualTo("98fd8d72-80f6-4419-abc2-c65ea39d0f38"));
        Assert.That(m.Json["@id"]!.GetValue<string>(), Is.EqualTo(m.Id));

        // A message nested in another document (e.g. an attachment's data.json) can be wrapped too.
        var outer = new JsonObject { ["inner"] = JsonNode.Parse(Rfc0008Threaded) };
        Assert.That(AgentMessage.FromJson((JsonObject)outer["inner"]!).Id, Is.EqualTo(m.Id));
    }

    [Test]
    public void Well_formed_id_follows_RFC0008_regex()
    {
        Assert.That(AgentMessage.IsWellFormedId("98fd8d72-80f6-4419-abc2-c65ea39d0f38"), Is.True);
        Assert.That(AgentMessage.IsWellFormedId("a.b_c/d-e"), Is.True);
        Assert.That(AgentMessage.IsWellFormedId("short"), Is.False, "fewer than 8 characters");
        Assert.That(AgentMessage.IsWellFormedId(new string('a', 65)), Is.False, "more than 64 characters");
        Assert.That(AgentMessage.IsWellFormedId("has space in it"), Is.False);
        Assert.That(AgentMessage.IsWellFormedId(null), Is.False);
        // Not a MUST, so a short id parses; the harness grades it.
        Assert.That(AgentMessage.Parse("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"1"}""").HasWellFormedId, Is.False);
    }

    [Test]
    public void GetString_and_Attachments_reject_wrong_kinds()
    {
        var m = AgentMessage.Parse("""{"@type":"https://didcomm.org/x/1.0/y","@id":"12345678","label":7,"a~attach":"nope","b~attach":[1]}""");
        Assert.Throws<MessageFormatException>(() => m.GetString("label"));
        Assert.That(m.GetString("absent"), Is.Null);
        Assert.Throws<MessageFormatException>(() => m.Attachments("a~attach"));
        Assert.Throws<MessageFormatException>(() => m.Attachments("b~attach"));
    }

    [TestCase("", TestName = "empty text")]
    [TestCase("not json", TestName = "not JSON")]
    [TestCase("[]", TestName = "array")]
    [TestCase("null", TestName = "null")]
    [TestCase("\"@type\"", TestName = "string")]
    [TestCase("{", TestName = "truncated")]
    [TestCase("""{"@id":"12345678"}""", TestName = "missing @type")]
    [TestCase("""{"type":"https://didcomm.org/trust-ping/2.0/ping","id":"1","body":{}}""", TestName = "DIDComm v2 message")]
    [TestCase("""{"@type":null,"@id":"12345678"}""", TestName = "null @type")]
    [TestCase("""{"@type":5,"@id":"12345678"}""", TestName = "number @type")]
    [TestCase("""{"@type":"ping","@id":"12345678"}""", TestName = "unparseable @type")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping"}""", TestName = "missing @id")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":42}""", TestName = "number @id")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":""}""", TestName = "empty @id")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":"abc"}""", TestName = "thread not object")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"thid":1}}""", TestName = "thid number")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"pthid":""}}""", TestName = "pthid empty")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"sender_order":"3"}}""", TestName = "sender_order string")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"sender_order":1.5}}""", TestName = "sender_order fraction")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"received_orders":[]}}""", TestName = "received_orders array")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"received_orders":{"a":"1"}}}""", TestName = "received_orders string value")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~transport":"all"}""", TestName = "transport not object")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~transport":{"return_route":true}}""", TestName = "return_route bool")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","@type":"https://didcomm.org/x/1.0/y"}""", TestName = "duplicate @type")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678","~thread":{"thid":"a1234567","thid":"b1234567"}}""", TestName = "duplicate nested member")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678",}""", TestName = "trailing comma")]
    [TestCase("""{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"12345678"} {}""", TestName = "trailing data")]
    public void Malformed_messages_throw_MessageFormatException(string json)
    {
        var e = Assert.Throws<MessageFormatException>(() => AgentMessage.Parse(json));
        Assert.That(e!.ProblemCode, Is.EqualTo("e.p.msg"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.Throws<MessageFormatException>(() => AgentMessage.Parse(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    [Test]
    public void DIDComm_v2_message_gets_a_hint()
        => Assert.That(Assert.Throws<MessageFormatException>(() => AgentMessage.Parse("""{"type":"https://didcomm.org/trust-ping/2.0/ping","id":"1","body":{}}"""))!.Message,
            Does.Contain("DIDComm v2"));

    [Test]
    public void Invalid_utf8_and_deep_nesting_throw_MessageFormatException()
    {
        byte[] bad = [.. "{\"@type\":\"https://didcomm.org/x/1.0/y\",\"@id\":\"12345678\",\"l\":\""u8, 0xff, .. "\"}"u8];
        Assert.Throws<MessageFormatException>(() => AgentMessage.Parse(bad));
        var deep = "{\"@type\":\"https://didcomm.org/x/1.0/y\",\"@id\":\"12345678\",\"d\":" + new string('[', 200) + new string(']', 200) + "}";
        Assert.Throws<MessageFormatException>(() => AgentMessage.Parse(deep));
    }

    [Test]
    public void Property_arbitrary_text_throws_only_MessageFormatException()
        => Prop.ForAll(ArbMap.Default.ArbFor<string>(), s =>
        {
            try { AgentMessage.Parse(s ?? ""); return true; }
            catch (MessageFormatException) { return true; }
        }).QuickCheckThrowOnFailure();

    [Test]
    public void Property_mutated_valid_messages_throw_only_MessageFormatException()
    {
        // Replace one member of a valid message with a random JSON-ish value.
        var values = Gen.Elements<JsonNode?>(null, 1, -1, 1.5, true, "", "x", new JsonArray(), new JsonObject(),
            new JsonObject { ["thid"] = 5 }, new JsonObject { ["return_route"] = 1 }, new JsonArray(1, "a"),
            new JsonObject { ["data"] = 1 }, new JsonObject { ["data"] = new JsonObject { ["links"] = "l" } });
        var members = Gen.Elements("@type", "@id", "~thread", "~transport", "x~attach", "label");
        var gen = from member in members from value in values select (member, value);
        Prop.ForAll(gen.ToArbitrary(), mv =>
        {
            var o = (JsonObject)JsonNode.Parse(Rfc0008Threaded)!;
            o[mv.member] = mv.value?.DeepClone();
            try
            {
                var m = AgentMessage.FromJson(o);
                _ = m.Attachments("x~attach");
                _ = m.GetString("label");
                return true;
            }
            catch (MessageFormatException) { return true; }
        }).QuickCheckThrowOnFailure();
    }
}

using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;

namespace Conformance.Harness.Tests.Reports;

/// <summary>A run with one case of every grade, a hostile plaintext, a fake secret, an attachment and interop pairings.</summary>
public static class SampleRun
{
    // shared/vectors/didcomm-v1-envelopes.json: base58 of a 64-byte Ed25519 secret key.
    public const string Secret = "2nYsWTQ1ZguQ7G2HYfMWjMNqWagBQfaKB9GLbsFk7Z7tKVBEr2arwpVKDwgLUbaxguUzQuf7o67aWKzgtHmKaypM";
    public const string Script = "<script>alert('x')</script>";

    public static RunReport Build(string? pngPath = null)
    {
        var started = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var t = Transcripts.DidExchangeFlow("sample", 40001, started);
        List<WireRecord> Wire() => t.Select((m, i) => new WireRecord(i + 1, 10 * i,
            m.Direction == FixtureDirection.AutToPeer ? "aut -> Bob" : "Bob -> aut",
            m.Plaintext["@type"]?.GetValue<string>(), "http", "http://127.0.0.1:40001",
            "{\"protected\":\"eyJ\",\"iv\":\"x\",\"ciphertext\":\"y\",\"tag\":\"z\"}", (JsonObject)m.Plaintext.DeepClone(), null)).ToList();

        var pass = Case("RFC0023-REQUEST-001", "RFC0023", Grade.PASS, "aries-rfcs/0023-did-exchange/README.md#1-exchange-request");
        pass.Checks = [new Check("The request MUST include ~thread.pthid.", Level.MUST, true, "pthid = invitation @id", "pthid = invitation @id")];
        pass.Wire = Wire();
        pass.FixtureStatus = "match";

        var warn = Case("RFC0023-RESPONSE-002", "RFC0023", Grade.WARN, "aries-rfcs/0023-did-exchange/README.md#2-exchange-response");
        warn.Level = Level.SHOULD;
        warn.Checks = [new Check("The response SHOULD be signed by the invitation key.", Level.SHOULD, false, "signed by the invitation key", "signed by the DID key")];
        warn.Expected = "signed by the invitation key";
        warn.Observed = "signed by the DID key";

        var fail = Case("RFC0160-REQUEST-003", "RFC0160", Grade.FAIL, "aries-rfcs/0160-connection-protocol/README.md#errors");
        fail.Requirement = "The response MUST carry ~thread.thid = the request's @id & be \"signed\".";
        fail.Checks =
        [
            new Check("a check that held", Level.MUST, true, null, null),
            new Check("The response MUST carry ~thread.thid.", Level.MUST, false, "thid = <request @id>", "no ~thread \u0001 at all"),
        ];
        fail.Expected = "thid = <request @id>";
        fail.Observed = "no ~thread \u0001 at all\n{\"recipient_secret\": \"" + Secret + "\"}";
        var hostile = new JsonObject
        {
            ["@type"] = "https://didcomm.org/connections/1.0/response",
            ["@id"] = "1",
            ["label"] = Script,
            ["recipient_secret"] = Secret,
        };
        fail.Wire =
        [
            new WireRecord(1, 5, "aut -> Bob", "https://didcomm.org/connections/1.0/response", "http", null,
                "{\"seed\": \"000000000000000000000000Trustee1\"}", hostile, "note " + Script),
            new WireRecord(2, 9, "aut -> Bob", null, "http", null, "not an envelope", null, "rejected: not a DIDComm envelope"),
        ];
        if (pngPath != null) fail.Attachments = [pngPath, "/nonexistent/trace.zip"];

        var unsupported = Case("RFC0434-OOB-004", "RFC0434", Grade.UNSUPPORTED, "aries-rfcs/0434-outofband/README.md#messages");
        unsupported.Reason = "the agent's backchannel answered 501 Not Implemented for /agent/command/out-of-band/send-invitation-message";

        var error = Case("RFC0434-OOB-005", "RFC0434", Grade.ERROR, "aries-rfcs/0434-outofband/README.md#messages");
        error.Reason = "HttpRequestException: Connection refused (127.0.0.1:9020)";

        return new RunReport
        {
            RunId = "20250301-120000-test",
            Started = started,
            Finished = started.AddSeconds(12.5),
            Agents = ["acapy", "credo"],
            Runtime = ".NET 10.0.0 linux-x64",
            Settings = new() { ["seed"] = "sample", ["deterministic"] = "true", ["wallet_seed"] = "000000000000000000000000Trustee1" },
            Cases = [pass, warn, fail, unsupported, error],
            Pairings =
            [
                new Pairing("acapy", "credo", "RFC0023", Grade.PASS, "RFC0023-REQUEST-001"),
                new Pairing("acapy", "credo", "RFC0160", Grade.FAIL, "RFC0160-REQUEST-003"),
                new Pairing("credo", "acapy", "RFC0023", Grade.WARN),
            ],
        };
    }

    private static CaseResult Case(string id, string rfc, Grade grade, string section) => new()
    {
        Id = id, Rfc = rfc, Title = "Suite of " + rfc, Requirement = "Requirement of " + id + ".", Level = Level.MUST,
        Section = section, Description = "Does " + id + ".", Aath = rfc == "RFC0023" ? "T001-RFC0023" : null,
        Agent = "acapy", Grade = grade, DurationMs = 1234,
    };
}

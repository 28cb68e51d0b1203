// conformance sig verify: Aries RFC 0234 signature decorator (ed25519Sha512_single), e.g. the connection~sig of an
// RFC 0160 connections/1.0 response. SignatureDecorator.Verify does the checking (and the ACA-Py / Credo
// tolerances: base58 or base64url signer, epoch seconds or milliseconds, padded or not).
//   RFC 0234: "Further processing is halted if verification fails" -> a signature that does not verify is exit 2.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.Signatures;

namespace Conformance.Cli.Verbs;

public static class SigVerbs
{
    private const string SigSuffix = "~sig";

    private static readonly Option Field = new("--field", "NAME",
        "which signed field to verify when the message has several (connection or connection~sig)");

    private static readonly Option Signer = new("--signer", "KEY",
        "also require this signer (base58 verkey or did:key), e.g. the invitation's recipient key");

    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("sig verify",
            "Verify an RFC 0234 ~sig field decorator (e.g. connection~sig) and show the signed value.",
            "[FILE|-]", 0, 1, [Field, Signer], Verify,
            """
            Input (FILE or stdin) is a message carrying a field whose name ends in ~sig, or a bare signature
            decorator object {"@type", "signature", "sig_data", "signer"}. Prints
            {"field", "value", "signer", "timestamp", "valid": true}; field is null for a bare decorator.
            A signature that does not verify is exit 2.

            example:
              conformance sig verify connection-response.json
            """),
    ];

    private static async Task<int> Verify(Invocation inv)
    {
        var input = Invocation.ParseObject(inv.ReadInput(inv.Args.Arg(0), "the signed message"), "the signed message");
        var (field, decorator) = Locate(input, inv.Args.Value(Field.Name));
        var where = field is null ? "the signature decorator" : field + SigSuffix;

        SignatureVerification verified;
        try
        {
            verified = SignatureDecorator.Verify(decorator);
        }
        catch (SignatureException e) when (e.Message.Contains("does not verify", StringComparison.Ordinal))
        {
            var signer = decorator["signer"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "?";
            throw new CliException($"{where}: signature does not verify for signer {signer}");
        }
        catch (SignatureException e)
        {
            throw new CliException($"{where}: {e.Message}");
        }

        if (inv.Args.Value(Signer.Name) is { } expected)
        {
            var expectedVerkey = await KeyArgs.ToVerkeyAsync(expected, Signer.Name, inv.Cancellation).ConfigureAwait(false);
            if (expectedVerkey != verified.SignerVerkey)
                throw new CliException($"{where}: signed by {verified.SignerVerkey}, not by the expected signer {expectedVerkey}");
        }

        var result = new JsonObject
        {
            ["field"] = field,
            ["value"] = verified.Value.DeepClone(),
            ["signer"] = verified.SignerVerkey,
            ["timestamp"] = verified.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFF'Z'", CultureInfo.InvariantCulture),
            ["valid"] = true,
        };
        inv.WriteJson(result);
        return Entry.ExitOk;
    }

    /// <summary>Finds the decorator: the object itself if it is one, else its (chosen) <c>*~sig</c> member.</summary>
    private static (string? Field, JsonObject Decorator) Locate(JsonObject input, string? wanted)
    {
        var signedFields = input.Where(kv => kv.Key.EndsWith(SigSuffix, StringComparison.Ordinal)).ToList();

        if (signedFields.Count == 0 && input.ContainsKey("signature") && input.ContainsKey("sig_data"))
        {
            if (wanted is not null) throw new CliException($"--field {wanted}: the input is a bare signature decorator, not a message");
            return (null, input);
        }
        if (signedFields.Count == 0)
            throw new CliException("no field ending in ~sig found (expected e.g. connection~sig, or a bare signature decorator)");

        KeyValuePair<string, JsonNode?> chosen;
        if (wanted is not null)
        {
            var name = wanted.EndsWith(SigSuffix, StringComparison.Ordinal) ? wanted : wanted + SigSuffix;
            chosen = signedFields.FirstOrDefault(kv => kv.Key == name);
            if (chosen.Key is null)
                throw new CliException($"--field: the message has no '{name}' (it has {string.Join(", ", signedFields.Select(kv => kv.Key))})");
        }
        else if (signedFields.Count > 1)
        {
            throw new CliException($"the message has {signedFields.Count} signed fields ({string.Join(", ", signedFields.Select(kv => kv.Key))}); choose one with --field");
        }
        else
        {
            chosen = signedFields[0];
        }

        var decorator = chosen.Value as JsonObject
                        ?? throw new CliException($"{chosen.Key} must be a signature decorator object");
        return (chosen.Key[..^SigSuffix.Length], decorator);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;

namespace Conformance.Mediator;

/// <summary>Settings of <see cref="MediatorBench"/>.</summary>
public sealed class MediatorBenchOptions
{
    public int Senders { get; set; } = 4;
    public int Recipients { get; set; } = 4;
    public int Messages { get; set; } = 20_000;
    public int Runs { get; set; } = 3;
    /// <summary>Forwards each sender keeps in flight (HTTP requests awaiting their 202).</summary>
    public int Window { get; set; } = 32;
    /// <summary>Size of each inner plaintext body (bytes of text).</summary>
    public int PayloadBytes { get; set; } = 200;
    public ContentAlg Enc { get; set; } = ContentAlg.XC20P;
    public bool InMemory { get; set; }
    /// <summary>Use the PostgreSQL backend with this connection string.</summary>
    public string? Postgres { get; set; }
    public bool SynchronousFull { get; set; } = true;
    /// <summary>Recipients acknowledge (messages-received) once this many deliveries are pending, or every 20 ms.</summary>
    public int AckBatch { get; set; } = 256;
    /// <summary>Run the mediator inside the bench process instead of as a child process.</summary>
    public bool InProcess { get; set; }
    /// <summary>How to start the mediator child: the arguments before <c>--port 0 --db FILE</c>. The default re-runs this
    /// program with its <c>mediator</c> verb (<c>conformance mediator</c>).</summary>
    public IReadOnlyList<string> MediatorCommand { get; set; } = ["mediator"];
    /// <summary>Bench a mediator that is already running (any implementation), by its DID; no CPU or RSS figures then.</summary>
    public string? TargetDid { get; set; }
}

/// <summary>One run's figures.</summary>
/// <param name="MediatorCpuMicrosPerMessage">CPU time of the mediator process per message during the timed part.</param>
/// <param name="ClientCpuMicrosPerMessage">CPU time of the bench process (senders and recipients; with an in-process
/// mediator, everything) per message during the timed part.</param>
public sealed record MediatorBenchRun(int Messages, TimeSpan Elapsed, double MessagesPerSecond, double P50Ms, double P99Ms, long Acked, long Errors,
    long LeftInQueue, double MediatorCpuMicrosPerMessage, double ClientCpuMicrosPerMessage, long Deliveries);

/// <summary>
/// The end-to-end mediator benchmark: S senders POST <c>forward</c>s (anoncrypted to the mediator with
/// <see cref="MediatorBenchOptions.Enc"/>, each carrying an inner envelope anoncrypted to its final recipient) to R
/// recipients that are connected over WebSocket with live delivery on and acknowledge what they receive with
/// messages-received. The mediator runs as a child process (<c>conformance mediator --port 0 --db FILE</c>, SQLite WAL,
/// synchronous=FULL unless told otherwise) started once for the warm-up and every run, so its JIT is warm and its
/// CPU time and peak RSS are its own.
/// <para>What is timed: from the first POST to the moment the last message has been received by its recipient AND every
/// acknowledgement has been answered (the queue is empty again, which each recipient then checks with a status-request).
/// Senders' envelopes are built before the clock starts (client-side encryption is the clients' cost, not the
/// mediator's); everything the mediator does — HTTP, outer decrypt, replay check, group commit, live push (authcrypt per
/// batch), the recipients' decrypt of each delivery, and the acknowledgements — is inside. Latency is per message, from
/// its POST to its arrival at the recipient.</para>
/// </summary>
public static class MediatorBench
{
    public const string Usage = "usage: conformance bench mediator [--senders S] [--recipients R] [--messages M] [--runs K] [--window W] [--payload BYTES] [--enc xc20p|a256gcm] [--memory | --postgres CONNSTRING] [--sync full|normal] [--in-process | --target DID]";

    /// <summary>
    /// Runtime settings for the mediator child process (the same can go into the CLI's runtimeconfig as
    /// <c>System.GC.LOHThreshold</c>, <c>System.Threading.ThreadPool.UnfairSemaphoreSpinLimit</c> and <c>TieredPGO</c>):
    /// <list type="bullet">
    /// <item>LOH threshold 1 MB: live deliveries and their JWEs are large short-lived buffers; above 85 KB they went to the
    /// large-object heap and every few hundred milliseconds forced a gen-2 collection (measured: mediator CPU per message
    /// ~280 → ~165 µs).</item>
    /// <item>No thread-pool spinning: idle workers block at once instead of spinning on the two cores the work needs.</item>
    /// <item>TieredPGO off: less instrumented-tier JIT work while the process warms up on a busy machine.</item>
    /// </list>
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ChildEnvironment = new Dictionary<string, string>
    {
        ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        ["DOTNET_TieredPGO"] = "0",
        ["DOTNET_GCLOHThreshold"] = "0x100000",
    };

    public static MediatorBenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new MediatorBenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new MediatorUsageException($"{a} needs a value; {Usage}");
            int Positive()
            {
                var v = Value();
                return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                    : throw new MediatorUsageException($"{a}: '{v}' is not a positive integer");
            }
            switch (a)
            {
                case "--senders": o.Senders = Positive(); break;
                case "--recipients": o.Recipients = Positive(); break;
                case "--messages": o.Messages = Positive(); break;
                case "--runs": o.Runs = Positive(); break;
                case "--window": o.Window = Positive(); break;
                case "--payload": o.PayloadBytes = Positive(); break;
                case "--ack-batch": o.AckBatch = Positive(); break;
                case "--enc":
                    o.Enc = Value() switch
                    {
                        "xc20p" or "XC20P" => ContentAlg.XC20P,
                        "a256gcm" or "A256GCM" => ContentAlg.A256Gcm,
                        "a256cbc-hs512" or "A256CBC-HS512" => ContentAlg.A256CbcHs512,
                        var s => throw new MediatorUsageException($"--enc: '{s}' is not xc20p, a256gcm or a256cbc-hs512"),
                    };
                    break;
                case "--memory": o.InMemory = true; break;
                case "--postgres": o.Postgres = Value(); break;
                case "--in-process": o.InProcess = true; break;
                case "--target": o.TargetDid = Value(); break;
                case "--sync":
                    o.SynchronousFull = Value() switch
                    {
                        "full" => true,
                        "normal" => false,
                        var s => throw new MediatorUsageException($"--sync: '{s}' is neither full nor normal"),
                    };
                    break;
                case "-h" or "--help": throw new MediatorUsageException(Usage);
                default: throw new MediatorUsageException($"unknown option '{a}'; {Usage}");
            }
        }
        return o;
    }

    /// <summary>Runs the bench, writing one line per run and a final summary line ending in "N msgs/s". Returns the
    /// median run (by throughput).</summary>
    public static async Task<MediatorBenchRun> RunAsync(MediatorBenchOptions o, TextWriter output, CancellationToken ct = default)
    {
        var store = o.InMemory ? "memory" : o.Postgres is not null ? "postgres" : $"sqlite WAL synchronous={(o.SynchronousFull ? "FULL" : "NORMAL")}";
        output.WriteLine($"mediator bench: {o.Senders} senders x {o.Window} in flight -> {o.Recipients} live WebSocket recipients, " +
                         $"{o.Messages} messages/run, forwards anoncrypt {ContentEncryption.Name(o.Enc)}, {store}, " +
                         $"mediator {(o.TargetDid is not null ? "external" : o.InProcess ? "in process" : "in a child process")}, {Environment.ProcessorCount} cores");
        await using var target = o.TargetDid is { } external ? new ExternalTarget(external)
            : o.InProcess ? await InProcessTarget.StartAsync(o, ct) : await ChildTarget.StartAsync(o, ct);
        // One unreported run first: JIT tiering and connection set-up are not what the bench measures.
        var warmCount = Math.Min(o.Messages, Math.Max(3000, o.Messages / 2));
        var warm = await RunOnceAsync(o, warmCount, target, ct);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up: {warm.Messages} msgs, {warm.MessagesPerSecond:0} msgs/s (not counted)"));
        var runs = new List<MediatorBenchRun>();
        for (var k = 1; k <= o.Runs; k++)
        {
            var r = await RunOnceAsync(o, o.Messages, target, ct);
            runs.Add(r);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {k}/{o.Runs}: {r.Messages} msgs in {r.Elapsed.TotalSeconds:0.000} s = {r.MessagesPerSecond:0} msgs/s, p50 {r.P50Ms:0.0} ms, p99 {r.P99Ms:0.0} ms, " +
                $"cpu {(o.InProcess || o.TargetDid is not null ? "" : $"mediator {r.MediatorCpuMicrosPerMessage:0} + ")}bench {r.ClientCpuMicrosPerMessage:0} us/msg, {r.Deliveries} live deliveries ({(double)r.Messages / Math.Max(1, r.Deliveries):0.0} msgs each), acked {r.Acked}, errors {r.Errors}, left in queue {r.LeftInQueue}"));
            output.Flush();
        }
        var median = runs.OrderBy(r => r.MessagesPerSecond).ElementAt(runs.Count / 2);
        var rssMb = target.PeakRssBytes() / (1024.0 * 1024.0);
        var cpuPerMessage = median.MediatorCpuMicrosPerMessage + median.ClientCpuMicrosPerMessage;
        var ceiling = Environment.ProcessorCount * 1e6 / Math.Max(1, cpuPerMessage);
        var cpuPart = o.TargetDid is null
            ? string.Create(CultureInfo.InvariantCulture, $"cpu {cpuPerMessage:0} us/msg (CPU-bound ceiling {ceiling:0} msgs/s on {Environment.ProcessorCount} idle cores), ")
            : "";
        var rssWhat = o.TargetDid is not null ? "external mediator: not measured" : o.InProcess ? "bench process, mediator inside" : "mediator process";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mediator bench median of {runs.Count}: p50 {median.P50Ms:0.0} ms, p99 {median.P99Ms:0.0} ms, {cpuPart}peak RSS {rssMb:0} MB ({rssWhat}), {median.MessagesPerSecond:0} msgs/s"));
        return median;
    }

    /// <summary>The mediator under test.</summary>
    private abstract class Target : IAsyncDisposable
    {
        public abstract string Did { get; }
        /// <summary>The mediator's CPU time so far (zero when it is in this process: then the bench's own time counts it).</summary>
        public abstract TimeSpan Cpu();
        public abstract long PeakRssBytes();
        public abstract ValueTask DisposeAsync();
    }

    private sealed class ExternalTarget(string did) : Target
    {
        public override string Did => did;
        public override TimeSpan Cpu() => TimeSpan.Zero;
        public override long PeakRssBytes() => 0;
        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class InProcessTarget(MediatorHost host) : Target
    {
        public static async Task<Target> StartAsync(MediatorBenchOptions o, CancellationToken ct) =>
            new InProcessTarget(await MediatorHost.StartAsync(new MediatorOptions { InMemory = o.InMemory, PostgresConnectionString = o.Postgres, Sqlite = new SqliteStoreOptions { SynchronousFull = o.SynchronousFull } }, ct));
        public override string Did => host.Did;
        public override TimeSpan Cpu() => TimeSpan.Zero;
        public override long PeakRssBytes() => MediatorBench.PeakRssBytes();
        public override ValueTask DisposeAsync() => host.DisposeAsync();
    }

    private sealed class ChildTarget(Process process, string did, string dir) : Target
    {
        public static async Task<Target> StartAsync(MediatorBenchOptions o, CancellationToken ct)
        {
            var dir = Directory.CreateTempSubdirectory("mediator-bench-").FullName;
            var exe = Environment.ProcessPath ?? "dotnet";
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
                psi.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("no entry assembly to start the mediator from"));
            foreach (var a in o.MediatorCommand) psi.ArgumentList.Add(a);
            string[] storeArgs = o.InMemory ? ["--memory"] : o.Postgres is { } pg ? ["--postgres", pg] : ["--db", Path.Combine(dir, "bench.db"), "--sync", o.SynchronousFull ? "full" : "normal"];
            foreach (var a in (string[])["--port", "0", .. storeArgs])
                psi.ArgumentList.Add(a);
            foreach (var (k, v) in ChildEnvironment) psi.Environment[k] = v;
            var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the mediator process");
            var errors = new StringBuilder();
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
            p.BeginErrorReadLine();
            var line = await p.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), ct);
            if (line is null || !line.StartsWith('{'))
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                throw new InvalidOperationException("the mediator process did not start: " + MediatorCommand.OneLine(line + " " + errors));
            }
            var did = JsonNode.Parse(line)!["did"]!.GetValue<string>();
            return new ChildTarget(p, did, dir);
        }

        public override string Did => did;

        public override TimeSpan Cpu()
        {
            try
            {
                var f = File.ReadAllText($"/proc/{process.Id}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // fields after "(comm)": state is [0], utime [11], stime [12], in clock ticks (100 per second on Linux)
                return TimeSpan.FromMilliseconds((long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) * 10);
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException) { return process.TotalProcessorTime; }
        }

        public override long PeakRssBytes()
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                        return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            catch (IOException) { }
            return process.PeakWorkingSet64;
        }

        public override async ValueTask DisposeAsync()
        {
            try
            {
                if (!process.HasExited)
                {
                    using (Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) { }
                    if (!process.WaitForExit(15_000)) process.Kill();
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
            await process.WaitForExitAsync();
            process.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private sealed class Recipient
    {
        public required V2Client Client;
        public required V2Socket Socket;
        public readonly ConcurrentQueue<string> ToAck = new();
        public Task? Reader, Acker;
    }

    private static async Task<MediatorBenchRun> RunOnceAsync(MediatorBenchOptions o, int messages, Target target, CancellationToken ct)
    {
        var entropy = Entropy.System;
        var did = target.Did;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = o.Senders * o.Window + o.Recipients + 8, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };

        // Recipients: mediation, keylist, WebSocket, live mode.
        var recipients = new Recipient[o.Recipients];
        for (var i = 0; i < recipients.Length; i++)
        {
            var c = new V2Client(did, new V2ClientOptions { Http = http, Entropy = entropy });
            await c.RequestMediationAsync(ct);
            await c.AddKeysAsync(c.Did);
            var s = await c.ConnectAsync(ct);
            var st = await s.SetLiveDeliveryAsync(true);
            if (!st.LiveDelivery) throw new InvalidOperationException("live delivery did not turn on");
            recipients[i] = new Recipient { Client = c, Socket = s };
        }

        // Envelopes, built before the clock starts.
        var senders = Enumerable.Range(0, o.Senders).Select(_ => new V2Client(did, new V2ClientOptions { Http = http, Entropy = entropy })).ToArray();
        var payload = new string('x', o.PayloadBytes);
        var forwards = new byte[messages][];
        var index = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Parallel.For(0, messages, new ParallelOptions { CancellationToken = ct }, i =>
        {
            var r = recipients[i % recipients.Length].Client;
            var sender = senders[i % senders.Length];
            var inner = new V2Message
            {
                Id = entropy.NewUuid(), Type = MessageTypes.BasicMessageMessage, To = [r.Did],
                CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Body = new JsonObject { ["content"] = payload },
            };
            var innerEnvelope = Encoding.UTF8.GetBytes(V2Packer.Anoncrypt(inner, r.Did, entropy, o.Enc));
            index[Hash(innerEnvelope)] = i;
            forwards[i] = Encoding.UTF8.GetBytes(sender.WrapForward(innerEnvelope, r.Did, o.Enc));
        });

        var sentAt = new long[messages];
        var latency = new double[messages];
        long received = 0, acked = 0, errors = 0, deliveries = 0;
        var allReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

        foreach (var r in recipients)
        {
            r.Reader = Task.Run(async () =>
            {
                try
                {
                    await foreach (var u in r.Socket.Incoming.ReadAllAsync(stop.Token))
                    {
                        if (u.Message.Type != MessageTypes.Delivery) continue;
                        Interlocked.Increment(ref deliveries);
                        var now = Stopwatch.GetTimestamp();
                        foreach (var a in u.Message.Attachments)
                        {
                            var bytes = a.GetBytes()!;
                            if (index.TryGetValue(Hash(bytes), out var i)) latency[i] = Stopwatch.GetElapsedTime(sentAt[i], now).TotalMilliseconds;
                            else Interlocked.Increment(ref errors);
                            r.ToAck.Enqueue(a.Id!);
                        }
                        if (Interlocked.Add(ref received, u.Message.Attachments.Count) >= messages) allReceived.TrySetResult();
                    }
                }
                catch (OperationCanceledException) { }
            });
            r.Acker = Task.Run(async () =>
            {
                var batch = new List<string>(o.AckBatch);
                while (true)
                {
                    var finishing = stop.IsCancellationRequested || allReceived.Task.IsCompleted;
                    while (batch.Count < o.AckBatch && r.ToAck.TryDequeue(out var id)) batch.Add(id);
                    if (batch.Count > 0 && (batch.Count >= o.AckBatch || r.ToAck.IsEmpty))
                    {
                        try
                        {
                            await r.Socket.MessagesReceivedAsync(batch);
                            Interlocked.Add(ref acked, batch.Count);
                        }
                        catch (Exception e) when (e is V2ProblemException or TimeoutException) { Interlocked.Increment(ref errors); }
                        batch.Clear();
                        continue;
                    }
                    if (finishing && r.ToAck.IsEmpty) break;
                    try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        var next = -1;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var mediatorCpuBefore = target.Cpu();
        var clock = Stopwatch.StartNew();
        var sending = Enumerable.Range(0, o.Senders * o.Window).Select(w => Task.Run(async () =>
        {
            var sender = senders[w % senders.Length];
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= messages) return;
                sentAt[i] = Stopwatch.GetTimestamp();
                try
                {
                    var result = await sender.PostEnvelopeAsync(forwards[i], MediaTypes.Encrypted, stop.Token);
                    if (result.StatusCode != 202) Interlocked.Increment(ref errors);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref errors); }
            }
        })).ToArray();

        await Task.WhenAll(sending);
        var timeout = Task.Delay(TimeSpan.FromSeconds(120), ct);
        if (await Task.WhenAny(allReceived.Task, timeout) == timeout)
        {
            stop.Cancel();
            throw new TimeoutException($"only {Interlocked.Read(ref received)} of {messages} messages arrived within 120 s after the last send");
        }
        await Task.WhenAll(recipients.Select(r => r.Acker!));
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var mediatorCpu = target.Cpu() - mediatorCpuBefore;
        long left = 0;
        foreach (var r in recipients) left += (await r.Socket.StatusAsync()).MessageCount;
        stop.Cancel();
        foreach (var r in recipients)
        {
            await r.Socket.DisposeAsync();
            await r.Client.DisposeAsync();
        }
        foreach (var s in senders) await s.DisposeAsync();

        var sorted = latency.Where(l => l > 0).Order().ToArray();
        double Pct(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return new MediatorBenchRun(messages, clock.Elapsed, messages / clock.Elapsed.TotalSeconds, Pct(0.50), Pct(0.99),
            Interlocked.Read(ref acked), Interlocked.Read(ref errors), left, mediatorCpu.TotalMicroseconds / messages, cpu.TotalMicroseconds / messages, Interlocked.Read(ref deliveries));
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    /// <summary>VmHWM from /proc/self/status (peak resident set), or the managed peak working set elsewhere.</summary>
    public static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }
}

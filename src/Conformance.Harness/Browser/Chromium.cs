// Starts the browser the browser suite and the report tests drive: Debian's chromium package, through Playwright.
// Never a browser Playwright downloads: the executable is /usr/bin/chromium (or CONFORMANCE_CHROMIUM), browser
// downloads are switched off, and `playwright install` is never called. The flags keep a closed-network machine
// quiet (no background networking, component updates, sync or first-run work) and let it run as root in a container
// (--no-sandbox). Pages are opened in a fresh context each (no shared cookies or storage between cases).
using Microsoft.Playwright;

namespace Conformance.Harness.Browser;

public sealed class Chromium : IAsyncDisposable
{
    /// <summary>The flags every launch uses (besides headless mode, which Playwright adds).</summary>
    public static readonly IReadOnlyList<string> Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic",
    ];

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Where the browser is: CONFORMANCE_CHROMIUM, else Debian's /usr/bin/chromium.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("CONFORMANCE_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";

    public static bool IsInstalled => File.Exists(ExecutablePath);

    /// <summary>Why the browser cannot be used, or null when it can.</summary>
    public static string? Unavailable => IsInstalled ? null
        : $"no Chromium at {ExecutablePath}: install Debian's package (apt-get install -y chromium) or set CONFORMANCE_CHROMIUM";

    public static async Task<Chromium> LaunchAsync(bool headless = true)
    {
        if (Unavailable is { } why) throw new BrowserUnavailableException(why);
        // The Playwright driver is a child process: it inherits this, and so never fetches a browser of its own.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = headless,
                Args = [.. Flags],
                Timeout = 30_000,
            });
            return new Chromium(playwright, browser);
        }
        catch (PlaywrightException e)
        {
            playwright.Dispose();
            throw new BrowserUnavailableException($"Chromium at {ExecutablePath} did not start: {FirstLine(e.Message)}");
        }
    }

    private static readonly SemaphoreSlim SharedGate = new(1, 1);
    private static Chromium? _shared;

    /// <summary>
    /// One browser for the whole process (cases open their own context each, so nothing is shared between them but
    /// the browser process). Relaunched if it died; closed when the process exits.
    /// </summary>
    public static async Task<Chromium> SharedAsync()
    {
        await SharedGate.WaitAsync();
        try
        {
            if (_shared is { } s && s.Browser.IsConnected) return s;
            if (_shared != null) await _shared.DisposeAsync();
            _shared = await LaunchAsync();
            if (!_exitHooked)
            {
                _exitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => _shared?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            }
            return _shared;
        }
        finally { SharedGate.Release(); }
    }

    private static bool _exitHooked;

    /// <summary>A page in a fresh context. <paramref name="scale"/> 2 doubles the screenshot resolution (crisper QR codes).</summary>
    public async Task<IPage> NewPageAsync(int width = 1000, int height = 800, float scale = 1, TimeSpan? timeout = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            DeviceScaleFactor = scale,
            Locale = "en-US",
        });
        context.SetDefaultTimeout((float)(timeout ?? TimeSpan.FromSeconds(15)).TotalMilliseconds);
        return await context.NewPageAsync();
    }

    public static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    public async ValueTask DisposeAsync()
    {
        try { await Browser.CloseAsync(); }
        catch (PlaywrightException) { }
        _playwright.Dispose();
    }
}

/// <summary>The browser is not installed or would not start (an infrastructure problem, not the agent's).</summary>
public sealed class BrowserUnavailableException(string message) : Exception(message);

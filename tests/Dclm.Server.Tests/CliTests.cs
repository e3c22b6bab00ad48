using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dclm.Server.Tests;

/// <summary>`dclm serve` and `dclm chat` run as users run them, as separate processes.</summary>
public sealed class CliTests
{
    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }

    [Fact]
    public async Task ServeListensOnTheGivenPortAndAnswersChat()
    {
        using var process = Start("serve", "--model", TinyModel.Path, "--port", "0", "--parallel", "2", "--threads", "1", "--api-key", "k");
        try
        {
            string? address = null, loaded = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
            {
                address ??= Regex.Match(line, @"at (http://\S+?/) ") is { Success: true } m ? m.Groups[1].Value : null;
                if (line.Contains("model loaded")) { loaded = line; break; }
            }
            Assert.NotNull(address);
            Assert.Contains("Int8 KV blocks", loaded);
            using var client = new HttpClient { BaseAddress = new Uri(address!) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", "k");
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent("""{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(200, (int)response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);

            // The server's default int8 cache gives what `dclm generate --kv-type int8` gives, token for token.
            using var completion = await client.PostAsync("/v1/completions", new StringContent("""{"prompt": "The quick brown fox", "max_tokens": 12, "temperature": 0}""", System.Text.Encoding.UTF8, "application/json"));
            string served = JsonDocument.Parse(await completion.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
            using var generate = Start("generate", "--model", TinyModel.Path, "--prompt", "The quick brown fox", "--max-tokens", "12", "--temperature", "0", "--kv-type", "int8", "--threads", "1");
            string generated = await generate.StandardOutput.ReadToEndAsync(timeout.Token);
            await generate.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, generate.ExitCode);
            Assert.True(served.Length > 0, "the server generated no text");
            Assert.Equal("The quick brown fox" + served + "\n", generated);

            // SIGTERM (what a service manager sends) stops it cleanly.
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()])) await kill.WaitForExitAsync(timeout.Token);
            string rest = await process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("dclm: stopping", rest);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task AnUnknownKvTypeIsRefusedByName()
    {
        using var process = Start("serve", "--model", TinyModel.Path, "--port", "0", "--kv-type", "f64");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("f64", error);
        Assert.Contains("int8", error);
    }

    [Fact]
    public async Task ChatRepliesInTheTerminalAndReusesTheFirstTurn()
    {
        var (exitCode, output, error) = await ChatAsync(TinyModel.Path, "Hello there\nAnd again\n/exit\n", "--max-tokens", "6");
        Assert.Equal(0, exitCode);
        var usage = Regex.Matches(error, @"\[(\d+) tokens; (\d+) of (\d+) prompt tokens reused\]");
        Assert.Equal(2, usage.Count);
        Assert.Equal("0", usage[0].Groups[2].Value);
        Assert.True(int.Parse(usage[1].Groups[2].Value) >= int.Parse(usage[0].Groups[3].Value), $"the second turn reused too little: {usage[1].Value}");
        Assert.StartsWith("> ", output);
    }

    /// <summary>Runs <c>dclm chat</c> (greedy, one thread) on <paramref name="model"/> with <paramref name="input"/> typed in; returns what it printed.</summary>
    internal static async Task<(int ExitCode, string Output, string Error)> ChatAsync(string model, string input, params string[] options)
    {
        using var process = Start(["chat", "--model", model, "--temperature", "0", "--threads", "1", .. options]);
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}

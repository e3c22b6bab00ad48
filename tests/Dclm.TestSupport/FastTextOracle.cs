using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Dclm.TestSupport;

/// <summary>
/// fastText itself, compiled to WebAssembly, run under Node (tests/oracles/fasttext/fasttext-oracle.js; scripts/setup.sh
/// installs its npm package). A missing node or package fails the test with the command that fixes it.
/// </summary>
public static class FastTextOracle
{
    private static string OracleDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "oracles", "fasttext");
            if (File.Exists(Path.Combine(candidate, "fasttext-oracle.js"))) return candidate;
        }
        throw new InvalidOperationException("tests/oracles/fasttext not found above the test binaries");
    }

    private static string Run(string[] arguments, string? input, TimeSpan timeout)
    {
        var directory = OracleDirectory();
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "@echogarden", "fasttext-wasm")))
            throw new InvalidOperationException($"the fastText oracle is not installed: run scripts/setup.sh (or: cd {directory} && npm ci)");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false), StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("fasttext-oracle.js");
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null) process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout)) { process.Kill(entireProcessTree: true); throw new TimeoutException($"fastText oracle timed out: {string.Join(' ', arguments)}"); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"fastText oracle failed ({process.ExitCode}): {error.Result}");
        return output.Result;
    }

    /// <summary>fastText's predict(text, k, threshold) for each text: (label, probability) pairs.</summary>
    public static List<List<(string Label, double Probability)>> Predict(string modelPath, IEnumerable<string> texts, int k, double threshold = 0)
    {
        var input = string.Join('\n', texts.Select(t => JsonSerializer.Serialize(t))) + "\n";
        var output = Run(["predict", modelPath, k.ToString(), threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)], input, TimeSpan.FromMinutes(3));
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<JsonElement[][]>(line)!.Select(p => (p[0].GetString()!, p[1].GetDouble())).ToList()).ToList();
    }

    /// <summary>lid.176.ftz as the repository vendors it (models/lid.176), for fastText to load.</summary>
    public static string Lid176Path()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "models", "lid.176", "lid.176.ftz");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("models/lid.176/lid.176.ftz not found above the test binaries");
    }

    /// <summary>Trains with fastText itself (one thread) on a file of "__label__x text" lines.</summary>
    public static void Train(string trainPath, string outputPath, object options) =>
        Run(["train", trainPath, outputPath, JsonSerializer.Serialize(options)], null, TimeSpan.FromMinutes(5));
}

using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Eval.Code;
using Dclm.Eval.Runners;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Tests;

/// <summary>The shipped HumanEval through the harness: canonical solutions all pass, broken ones all fail.</summary>
public sealed class HumanEvalTests
{
    private static readonly string HumanEval = Path.Combine(AppContext.BaseDirectory, "tasks", "HumanEval.jsonl.gz");
    private static readonly EvalOptions Options = new()
    {
        UseCanonicalSolutions = true,
        SandboxParallelism = 16,
        Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(60) },
    };

    [Fact]
    public void CanonicalSolutionsPassAll164()
    {
        var result = new Evaluator(null, null, Options).Run(new TaskSpec { Label = "humaneval", DatasetPath = HumanEval });
        Assert.Equal(TaskKind.Code, result.Kind);
        Assert.Equal(164, result.Items);
        var failures = result.ItemResults.Where(r => !r.Correct).Select(r => $"{r.Id}: {string.Join("; ", r.Outcomes!)}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(1.0, result.Metrics["pass@1"], 12);
    }

    [Fact]
    public void BrokenSolutionsPassNone()
    {
        // Each solution replaced by one that returns None: valid code whose answers are wrong.
        string path = Path.Combine(Directory.CreateTempSubdirectory("dclm-humaneval-").FullName, "broken.jsonl");
        using (var reader = new StreamReader(new GZipStream(File.OpenRead(HumanEval), CompressionMode.Decompress)))
        using (var writer = new StreamWriter(path))
        {
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                if (line.Trim().Length == 0) continue;
                var record = JsonNode.Parse(line)!.AsObject();
                record["canonical_solution"] = "    return None\n";
                writer.WriteLine(record.ToJsonString());
            }
        }
        var result = new Evaluator(null, null, Options).Run(new TaskSpec { Label = "broken", DatasetPath = path });
        Assert.Equal(164, result.Items);
        var passing = result.ItemResults.Where(r => r.Correct).Select(r => r.Id).ToList();
        Assert.True(passing.Count == 0, string.Join(", ", passing));
        Assert.Equal(0.0, result.Metrics["pass@1"], 12);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void HostileSolutionsAreScoredFailedAndTheRunGoesOn()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-humaneval-hostile-").FullName;
        string outside = Path.Combine(directory, "outside.txt");
        string Problem(string id, string body) => JsonSerializer.Serialize(new
        {
            task_id = id, prompt = "def f():\n", canonical_solution = body, entry_point = "f",
            test = "def check(candidate):\n    assert candidate() == 1\n",
        });
        string path = Path.Combine(directory, "hostile.jsonl");
        File.WriteAllLines(path,
        [
            Problem("socket", "    import socket\n    socket.create_connection(('127.0.0.1', 9))\n    return 1\n"),
            Problem("write", $"    open({JsonSerializer.Serialize(outside)}, 'w').write('x')\n    return 1\n"),
            Problem("fork", "    import os\n    while True:\n        os.fork()\n"),
            Problem("forever", "    while True:\n        pass\n"),
            Problem("good", "    return 1\n"),
        ]);
        // The limit must let "good" start Python and pass on a loaded machine; "forever" costs the full limit.
        var options = Options with { Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(10) } };
        var result = new Evaluator(null, null, options).Run(new TaskSpec { Label = "hostile", DatasetPath = path, StripData = false });
        Assert.Equal(["socket", "write", "fork", "forever", "good"], result.ItemResults.Select(r => r.Id));
        Assert.Equal([false, false, false, false, true], result.ItemResults.Select(r => r.Correct));
        Assert.Equal("timed out", result.ItemResults[3].Outcomes![0]);
        Assert.False(File.Exists(outside));
        Assert.Equal(0.2, result.Metrics["pass@1"], 12);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void CompletionsAreCutAtHumanEvalStopSequences()
    {
        Assert.Equal("    return 1\n", HumanEvalProgram.Truncate("    return 1\n\ndef other():\n    pass"));
        Assert.Equal("    x = 1", HumanEvalProgram.Truncate("    x = 1\nprint(x)"));
        Assert.Equal("    return 2", HumanEvalProgram.Truncate("    return 2\n# comment\nif True: pass"));
        Assert.Equal("    return 3\n    # inner comment is kept", HumanEvalProgram.Truncate("    return 3\n    # inner comment is kept"));
    }
}

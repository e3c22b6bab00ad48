using Dclm.Checkpoints;
using Dclm.Eval.Code;
using Dclm.Eval.Runners;
using Dclm.Eval.Tasks;
using Dclm.TestSupport;

namespace Dclm.Eval.Tests;

/// <summary>
/// The HumanEval-infilling tasks (tasks/humaneval_infill.yaml): masking is exact, the canonical fills pass the real tests
/// in the sandbox and empty fills do not, and a model is driven through the FIM prompt (Qwen tokenizer) or refused by name.
/// </summary>
public sealed class InfillTaskTests
{
    private static readonly string Suite = Path.Combine(AppContext.BaseDirectory, "tasks", "humaneval_infill.yaml");

    private static EvalOptions Options(int limit, bool canonical = true) => new()
    {
        UseCanonicalSolutions = canonical, SandboxParallelism = 16, Limit = limit,
        Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(60) },
    };

    [Fact]
    public void LinesAreMaskedExactly()
    {
        var problem = new CodeItem("def f(x):\n", "    y = x + 1\n\n    return y\n", "def check(c):\n    assert c(1) == 2\n", "f") { Id = "T/0" };
        var single = InfillProblems.Mask([problem], InfillMode.SingleLine, 1234);
        Assert.Equal(["T/0/L0", "T/0/L2"], single.Select(p => p.Id));
        Assert.Equal(("def f(x):\n    y = x + 1\n\n", "    return y\n", ""), (single[1].Prefix, single[1].Middle, single[1].Suffix));
        Assert.Equal(("def f(x):\n", "    y = x + 1\n", "\n    return y\n"), (single[0].Prefix, single[0].Middle, single[0].Suffix));
        var multi = InfillProblems.Mask([problem], InfillMode.MultiLine, 1234).Single();
        Assert.Equal(problem.Prompt + problem.CanonicalSolution, multi.Prefix + multi.Middle + multi.Suffix);
        Assert.Equal("    y\n", InfillProblems.TruncateSingleLine("    y\n    z\n"));
    }

    [Fact]
    public void CanonicalFillsPassAndEmptyFillsFailInTheSandbox()
    {
        var specs = TaskCatalog.ReadSuite(Suite);
        Assert.Equal([InfillMode.SingleLine, InfillMode.MultiLine], specs.Select(s => s.Infill));
        foreach (var spec in specs)
        {
            var result = new Evaluator(null, null, Options(24)).Run(spec);
            Assert.Equal(24, result.Items);
            var failures = result.ItemResults.Where(r => !r.Correct).Select(r => $"{r.Id}: {string.Join("; ", r.Outcomes!)}").ToList();
            Assert.True(failures.Count == 0, string.Join("\n", failures));
            Assert.Equal(1.0, result.Metrics["pass@1"], 12);
        }
        // The multi-line spans with nothing filled in: a solution missing its lines fails its tests.
        var items = TaskFileReader.Read(specs[1].DatasetPath, TaskKind.Code, strip: false).Items.Take(24).Cast<CodeItem>().ToArray();
        var masked = InfillProblems.Mask(items, InfillMode.MultiLine, specs[1].FewShotSeed);
        int passing = 0;
        var sandbox = PythonSandbox.Create(new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(60) });
        foreach (var p in masked)
            if (sandbox.Run(HumanEvalProgram.Build(p.Prefix, "    pass\n" + p.Suffix, p.Test, p.EntryPoint)).Outcome == SandboxOutcome.Passed)
                passing++;
        Assert.True(passing <= 2, $"{passing} of {masked.Count} programs with their span replaced by 'pass' still pass");
    }

    [Fact]
    public void AModelFillsThroughItsFimTokensOrIsRefusedByName()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-infill-model-").FullName;
        try
        {
            string qwen = Path.Combine(directory, "qwen.gguf");
            QwenFiles.WriteRandomModel(qwen, contextLength: 512);
            var spec = TaskCatalog.ReadSuite(Suite)[0];
            using (var loaded = ModelLoader.Load(qwen))
            {
                var result = new Evaluator(loaded.Model, loaded.Tokenizer, Options(3, canonical: false)).Run(spec);
                Assert.Equal(3, result.Items);
                Assert.InRange(result.Metrics["pass@1"], 0, 1);
                // A single-line fill is at most one line.
                Assert.All(result.ItemResults, r => Assert.True(r.Output!.IndexOf('\n') is -1 || r.Output.IndexOf('\n') == r.Output.Length - 1, r.Output));
                Assert.All(result.ItemResults, r => Assert.Single(r.Outcomes!));
            }
            using var neox = new TinyNeoXModel();
            var error = Assert.Throws<ArgumentException>(() => new Evaluator(neox.Loaded.Model, neox.Loaded.Tokenizer, Options(3, canonical: false)).Run(spec));
            Assert.Contains("prefix token is missing", error.Message);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }
}

using System.Diagnostics;

namespace Dclm.Eval.Tests;

/// <summary>
/// CORE scores against an outside oracle: fixtures/foundry/core/score_core_from_logits.py recomputes a `dclm eval` report
/// from llm-foundry's recorded texts, `dclm tokenize` and `dclm logits` alone (llm-foundry's token boundaries and
/// trim_context, its perplexity and greedy metrics, DCLM's centring and averaging), and must agree with every value.
/// </summary>
public sealed class CoreScoringTests
{
    private static string Core => Path.Combine(AppContext.BaseDirectory, "fixtures", "foundry", "core");

    // Every kind and feature CORE uses: categories (jeopardy), "\nAnswer: " and 10 shots cut to the 256-token window
    // (arc_challenge, with a 3-choice item), 0-shot choices (copa), schema (winograd), 0-shot language modelling
    // (lambada_openai), letter answers with baseline 40.3 (commonsense_qa) and baseline 62 (boolq).
    private static readonly string[] Chosen = ["jeopardy", "arc_challenge", "copa", "commonsense_qa", "lambada_openai", "winograd", "boolq"];

    [Fact]
    public void ScoresEqualThoseAnIndependentScriptComputesFromDclmLogits()
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("dclm-core-logits-").FullName;
        try
        {
            // DCLM's definitions of the chosen tasks, as tasks/core.yaml holds them.
            var blocks = File.ReadAllText(Path.Combine(HarnessPromptTests.TasksDirectory, "core.yaml")).Split("\n- ").Skip(1);
            string suite = Path.Combine(directory, "core_part.yaml");
            File.WriteAllText(suite, "icl_tasks:\n" + string.Concat(blocks.Where(b => Chosen.Contains(b.Split('\n')[0]["label: ".Length..].Trim())).Select(b => "- " + b.TrimEnd() + "\n")));
            string report = Path.Combine(directory, "core.json");
            var output = HarnessScoringTests.Run(["eval", "--model", DefaultModelFile.Path, "--tasks", suite, "--data-dir", Core, "--limit", "1", "--output", report, "--threads", "1"]);
            Assert.Contains("jeopardy", output);
            var script = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { Path.Combine(Core, "score_core_from_logits.py"), report, Path.Combine(Core, "core_prompts.json"), Core, "256", "dotnet", Path.Combine(AppContext.BaseDirectory, "dclm.dll") })
                script.ArgumentList.Add(argument);
            using var process = Process.Start(script)!;
            string result = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(600_000), "the script did not finish");
            Assert.True(process.ExitCode == 0, result);
            Assert.Contains("16 sequences of 8 items recomputed from dclm logits, 0 disagreements", result);
        }
        finally { System.IO.Directory.Delete(directory, recursive: true); }
    }
}

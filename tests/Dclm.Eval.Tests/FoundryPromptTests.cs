using System.Text.Json;
using Dclm.Eval.Prompting;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Tests;

/// <summary>
/// The text our llm-foundry tasks (DCLM's CORE kinds) put before each question equals what llm-foundry
/// 0.9.0's own dataset classes built from the same files: fixtures/foundry/foundry_prompts.json, recorded by
/// record_foundry_prompts.py running its read_dataset, strip_data, seeded shot sampling and _prep_example.
/// </summary>
public sealed class FoundryPromptTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "foundry", name);

    public static TheoryData<string> Runs()
    {
        var data = new TheoryData<string>();
        foreach (var run in Recording().EnumerateArray()) data.Add(run.GetProperty("label").GetString()!);
        return data;
    }

    private static JsonElement Recording() => JsonDocument.Parse(File.ReadAllText(Fixture("foundry_prompts.json"))).RootElement;

    [Theory]
    [MemberData(nameof(Runs))]
    public void PreamblesAndContextsEqualLlmFoundrys(string label)
    {
        var run = Recording().EnumerateArray().Single(r => r.GetProperty("label").GetString() == label);
        var spec = new TaskSpec
        {
            Label = label, DatasetPath = Fixture(run.GetProperty("file").GetString()!), Shots = run.GetProperty("shots").GetInt32(),
            ContinuationDelimiter = run.GetProperty("continuation_delimiter").GetString()!, PromptString = run.GetProperty("prompt_string").GetString()!,
        };
        var (_, items) = TaskFileReader.Read(spec.DatasetPath);
        var builder = new PromptBuilder(spec, items);
        var expected = run.GetProperty("items");
        Assert.Equal(expected.GetArrayLength(), items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            string preamble = builder.Preamble(i);
            Assert.Equal(expected[i].GetProperty("preamble").GetString(), preamble);
            var context = expected[i].GetProperty("context");
            if (items[i] is SchemaItem schema)
                Assert.Equal(context.EnumerateArray().Select(c => c.GetString()!), builder.SchemaContexts(schema, preamble));
            else
                Assert.Equal(context.GetString(), builder.Context(items[i], preamble));
        }
    }
}

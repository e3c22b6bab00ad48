using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Dclm.Eval.Harness;

/// <summary>
/// Reads a task file in lm-evaluation-harness's YAML layout (the keys of its TaskConfig: task,
/// output_type, *_split, fewshot_config.sampler, description, process_docs, doc_to_text, doc_to_target,
/// doc_to_choice, target_delimiter, fewshot_delimiter, metric_list), plus where the data lies under
/// <c>--data-dir</c> (<c>data_dir</c>). A file with <c>subjects:</c> (subject: category) is a group, like MMLU:
/// one task per subject named <c>{group}_{subject}</c>, with <c>{subject}</c> and <c>{subject_words}</c>
/// substituted in data_dir and description.
/// </summary>
public static class HarnessTaskFile
{
    /// <summary>Whether <paramref name="yaml"/> (already parsed) is a harness task file rather than an llm-foundry suite.</summary>
    public static bool IsHarnessTask(IDictionary<object, object?> yaml) => yaml.ContainsKey("task") || yaml.ContainsKey("subjects");

    /// <summary>Parses YAML into plain dictionaries, lists and strings; errors name the file.</summary>
    public static IDictionary<object, object?> Load(string path)
    {
        try
        {
            return new DeserializerBuilder().Build().Deserialize<Dictionary<object, object?>>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (YamlException e) { throw new InvalidDataException($"{path}: not valid YAML ({e.Message})"); }
    }

    /// <summary>The tasks <paramref name="path"/> defines (one, or one per subject of a group).</summary>
    public static IReadOnlyList<HarnessTask> Read(string path) => Read(path, Load(path));

    /// <summary>The tasks of an already parsed file.</summary>
    public static IReadOnlyList<HarnessTask> Read(string path, IDictionary<object, object?> yaml)
    {
        string? Text(string key) => yaml.TryGetValue(key, out var v) && v is not null ? v as string ?? throw new InvalidDataException($"{path}: {key} must be text") : null;
        if (yaml.TryGetValue("subjects", out var subjectsValue))
        {
            string group = Text("group") ?? throw new InvalidDataException($"{path}: a file with subjects needs a group name");
            if (subjectsValue is not IDictionary<object, object?> subjects || subjects.Count == 0) throw new InvalidDataException($"{path}: subjects must map each subject to its category");
            return subjects.Select(s => Build(path, yaml, $"{group}_{s.Key}", group, s.Value?.ToString(), s.Key.ToString()!)).ToList();
        }
        string name = Text("task") ?? throw new InvalidDataException($"{path}: task is missing");
        return [Build(path, yaml, name, Text("group"), null, null)];
    }

    private static HarnessTask Build(string path, IDictionary<object, object?> yaml, string name, string? group, string? category, string? subject)
    {
        string where = $"{path}: {name}";
        string Substitute(string s) => subject is null ? s : s.Replace("{subject}", subject, StringComparison.Ordinal).Replace("{subject_words}", subject.Replace('_', ' '), StringComparison.Ordinal);
        object? Value(string key) => yaml.TryGetValue(key, out var v) ? v : null;
        string? Text(string key) => Value(key) switch { null => null, string s => Substitute(s), var v => throw new InvalidDataException($"{where}: {key} must be text, not {v.GetType().Name}") };
        var folders = Value("data_dir") switch
        {
            null => [name],
            string s => [Substitute(s)],
            IEnumerable<object> list => list.Select(o => Substitute(o?.ToString() ?? "")).ToList(),
            _ => throw new InvalidDataException($"{where}: data_dir must be a folder or a list of folders"),
        };
        string outputType = Text("output_type") ?? "multiple_choice";
        var sampler = (Value("fewshot_config") as IDictionary<object, object?>)?.TryGetValue("sampler", out var s2) == true ? s2?.ToString() : null;
        var task = new HarnessTask
        {
            Label = name, Group = group, Category = category, Alias = subject ?? Text("task_alias"), SourceFile = path, DataFolders = folders,
            RowFilter = subject is null ? null : ("subject", subject),
            OutputType = outputType switch
            {
                "multiple_choice" => HarnessOutputType.MultipleChoice,
                "loglikelihood" => HarnessOutputType.LogLikelihood,
                _ => throw new InvalidDataException($"{where}: output_type '{outputType}' is not supported (multiple_choice, loglikelihood)"),
            },
            TrainingSplit = Text("training_split"), ValidationSplit = Text("validation_split"), TestSplit = Text("test_split"), FewShotSplit = Text("fewshot_split"),
            Sampler = sampler switch
            {
                null or "default" => FewShotSampling.Random,
                "first_n" => FewShotSampling.FirstN,
                _ => throw new InvalidDataException($"{where}: fewshot_config.sampler '{sampler}' is not supported (default, first_n)"),
            },
            Description = Text("description") ?? "",
            ProcessDocs = Text("process_docs") is string p ? HarnessFunctions.Processor(p.StartsWith("!function ", StringComparison.Ordinal) ? p["!function ".Length..].Trim() : p, where) : null,
            DocToText = DocField.Parse(Value("doc_to_text"), $"{where}: doc_to_text"),
            DocToTarget = DocField.Parse(Value("doc_to_target"), $"{where}: doc_to_target"),
            DocToChoice = Value("doc_to_choice") is { } choice ? DocField.Parse(choice, $"{where}: doc_to_choice") : null,
            TargetDelimiter = Text("target_delimiter") ?? " ",
            FewShotDelimiter = Text("fewshot_delimiter") ?? "\n\n",
            Metrics = Metrics(Value("metric_list"), outputType, where),
            Shots = Value("num_fewshot") is { } shots ? int.TryParse(shots.ToString(), out int k) ? k : throw new InvalidDataException($"{where}: num_fewshot must be an integer") : 0,
        };
        return task.Validate();
    }

    /// <summary>metric_list entries are names or {metric: name, ...}; absent, the harness's defaults for the output type.</summary>
    private static IReadOnlyList<string> Metrics(object? value, string outputType, string where)
    {
        if (value is null) return outputType == "loglikelihood" ? ["perplexity", "acc"] : ["acc", "acc_norm"];
        if (value is not IEnumerable<object> list) throw new InvalidDataException($"{where}: metric_list must be a list");
        var names = list.Select(item => item switch
        {
            string s => s,
            IDictionary<object, object?> d when d.TryGetValue("metric", out var m) && m is string s => s,
            _ => throw new InvalidDataException($"{where}: each metric_list entry needs a metric name"),
        }).ToList();
        foreach (var n in names)
            if (n is not ("acc" or "acc_norm" or "perplexity")) throw new InvalidDataException($"{where}: metric '{n}' is not supported (acc, acc_norm, perplexity)");
        return names;
    }
}

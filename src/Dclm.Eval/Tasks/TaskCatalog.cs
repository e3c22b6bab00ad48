using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Dclm.Eval.Tasks;

/// <summary>
/// Turns what users pass to <c>--tasks</c> into task specs: a JSONL task file (kind inferred), a YAML
/// suite in llm-foundry's <c>icl_tasks</c> layout (as DCLM's eval configs are written), or the name of a
/// suite shipped in the tasks directory (e.g. "humaneval", "shipped").
/// </summary>
public static class TaskCatalog
{
    /// <summary>The shipped tasks directory: $DCLM_TASKS, next to the program, or a "tasks" folder above the working directory.</summary>
    public static string? FindTasksDirectory()
    {
        if (Environment.GetEnvironmentVariable("DCLM_TASKS") is { Length: > 0 } fromEnvironment && Directory.Exists(fromEnvironment)) return fromEnvironment;
        string beside = Path.Combine(AppContext.BaseDirectory, "tasks");
        if (Directory.Exists(beside)) return beside;
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tasks");
            if (File.Exists(Path.Combine(candidate, "shipped.yaml"))) return candidate;
        }
        return null;
    }

    /// <summary>Resolves each comma-separated entry of <paramref name="entries"/> to llm-foundry task specs (suites and JSONL files only).</summary>
    public static IReadOnlyList<TaskSpec> Resolve(IEnumerable<string> entries, string? tasksDirectory = null) =>
        ResolveAll(entries, tasksDirectory).Select(t => t as TaskSpec ?? throw new ArgumentException($"--tasks: {t.Label} is an lm-evaluation-harness task")).ToArray();

    /// <summary>
    /// Resolves each comma-separated entry: a JSONL task file, a YAML file (an llm-foundry suite or an
    /// lm-evaluation-harness task), the name of a YAML file in the tasks directory, or a subject or
    /// category of a grouped harness task (<c>mmlu_anatomy</c>, <c>mmlu_stem</c>). Suites' dataset_uri
    /// paths are also looked for under <paramref name="dataDirectory"/>.
    /// </summary>
    public static IReadOnlyList<EvalTask> ResolveAll(IEnumerable<string> entries, string? tasksDirectory = null, string? dataDirectory = null)
    {
        var tasks = new List<EvalTask>();
        foreach (var entry in entries.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (File.Exists(entry))
            {
                tasks.AddRange(IsYaml(entry) ? ReadYaml(entry, dataDirectory) : [new TaskSpec { Label = LabelOf(entry), DatasetPath = entry }]);
                continue;
            }
            string? directory = tasksDirectory ?? FindTasksDirectory();
            string? file = directory is null ? null : new[] { ".yaml", ".yml" }.Select(e => Path.Combine(directory, entry + e)).FirstOrDefault(File.Exists);
            if (file is not null) { tasks.AddRange(ReadYaml(file, dataDirectory)); continue; }
            var grouped = directory is null ? [] : GroupMembers(directory, entry);
            if (grouped.Count == 0)
                throw new FileNotFoundException($"--tasks: '{entry}' is neither a task file nor a suite name" + (directory is null ? " (no tasks directory found; set DCLM_TASKS)" : $" in {directory} ({string.Join(", ", Directory.GetFiles(directory, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order())})"));
            tasks.AddRange(grouped);
        }
        return tasks.Select(t => t switch { TaskSpec s => (EvalTask)s.Validate(), Harness.HarnessTask h => h.Validate(), _ => t }).ToArray();
    }

    private static IReadOnlyList<EvalTask> ReadYaml(string path, string? dataDirectory)
    {
        var yaml = Harness.HarnessTaskFile.Load(path);
        return Harness.HarnessTaskFile.IsHarnessTask(yaml) ? Harness.HarnessTaskFile.Read(path, yaml) : ReadSuite(path, dataDirectory);
    }

    /// <summary>Tasks of grouped harness files whose name or category matches (<c>mmlu_anatomy</c>, <c>mmlu_stem</c>).</summary>
    private static List<EvalTask> GroupMembers(string directory, string entry)
    {
        var found = new List<EvalTask>();
        foreach (var file in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            IDictionary<object, object?> yaml;
            try { yaml = Harness.HarnessTaskFile.Load(file); } catch (InvalidDataException) { continue; }
            if (!yaml.ContainsKey("subjects") || yaml.TryGetValue("group", out var g) && g is string group && !entry.StartsWith(group + "_", StringComparison.Ordinal)) continue;
            found.AddRange(Harness.HarnessTaskFile.Read(file, yaml).Where(t => t.Label == entry || $"{t.Group}_{t.Category}" == entry));
        }
        return found;
    }

    /// <summary>Reads an llm-foundry-style suite: <c>icl_tasks:</c> with label, dataset_uri, num_fewshot, icl_task_type and prompt settings.</summary>
    public static IReadOnlyList<TaskSpec> ReadSuite(string path, string? dataDirectory = null)
    {
        SuiteFile? suite;
        try
        {
            var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build();
            suite = deserializer.Deserialize<SuiteFile>(File.ReadAllText(path));
        }
        catch (YamlException e) { throw new InvalidDataException($"{path}: not a valid suite ({e.Message})"); }
        if (suite?.IclTasks is not { Count: > 0 }) throw new InvalidDataException($"{path}: has no icl_tasks");
        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var specs = new List<TaskSpec>();
        for (int i = 0; i < suite.IclTasks.Count; i++)
        {
            var task = suite.IclTasks[i];
            string where = $"{path}: icl_tasks[{i}]";
            if (string.IsNullOrWhiteSpace(task.DatasetUri)) throw new InvalidDataException($"{where}: dataset_uri is missing");
            // DCLM's suites name llm-foundry's copies as local_data/<category>/<file>.jsonl; a data directory may hold either layout.
            string[] candidates = [Path.Combine(baseDirectory, task.DatasetUri), task.DatasetUri,
                .. dataDirectory is null ? Array.Empty<string>() : [Path.Combine(dataDirectory, task.DatasetUri), Path.Combine(dataDirectory, StripLocalData(task.DatasetUri))]];
            string dataset = candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"{where}: dataset {task.DatasetUri} not found beside the suite, in the working directory" + (dataDirectory is null ? " (use --data-dir)" : $" or under {dataDirectory}"));
            TaskKind? kind;
            try { kind = task.IclTaskType is null ? null : TaskKinds.Parse(task.IclTaskType); }
            catch (FormatException e) { throw new InvalidDataException($"{where}: {e.Message}"); }
            InfillMode infill;
            try { infill = InfillModes.Parse(task.Infill); }
            catch (FormatException e) { throw new InvalidDataException($"{where}: {e.Message}"); }
            if (infill != InfillMode.None && kind is not (null or TaskKind.Code)) throw new InvalidDataException($"{where}: infill needs icl_task_type code_evaluation");
            var shots = Integers(task.NumFewshot, $"{where}: num_fewshot") is { Count: > 0 } list ? list : [0];
            foreach (int k in shots)
            {
                string label = task.Label ?? LabelOf(dataset);
                var spec = new TaskSpec
                {
                    Label = shots.Count > 1 ? $"{label}_{k}shot" : label, DatasetPath = dataset, Kind = kind, Shots = k,
                    FewShotSeed = task.FewshotRandomSeed ?? 1234, PromptString = task.PromptString ?? "",
                    Prelimiter = task.Prelimiter ?? task.QuestionPrelimiter ?? "", HasCategories = task.HasCategories ?? false, ExampleDelimiter = task.ExampleDelimiter ?? "\n",
                    ContinuationDelimiter = task.ContinuationDelimiter ?? (kind == TaskKind.Code ? "" : " "),
                    StripData = task.StripDataset ?? kind != TaskKind.Code, RandomBaseline = task.RandomBaseline is double r ? r / (r > 1 ? 100 : 1) : null,
                    StopStrings = task.EarlyStoppingCriteria ?? [], ChainOfThoughtDelimiter = task.CotDelimiter ?? "",
                    NormalizeAnswers = task.DoNormalization ?? true, Samples = task.GenerationsPerSample ?? 1,
                    PassAtK = Integers(task.PassAtK, $"{where}: pass_at_k") is { Count: > 0 } ks ? ks : [1], Temperature = task.Temperature ?? 0.2f,
                    Infill = infill,
                };
                specs.Add(spec);
            }
        }
        return specs;
    }

    /// <summary>llm-foundry accepts either one integer or a list of them.</summary>
    private static List<int>? Integers(object? value, string where)
    {
        static int Parse(object? item, string where) =>
            int.TryParse(item?.ToString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n)
                ? n : throw new InvalidDataException($"{where}: '{item}' is not an integer");
        return value switch
        {
            null => null,
            IEnumerable<object> items => items.Select(i => Parse(i, where)).ToList(),
            _ => [Parse(value, where)],
        };
    }

    private static string StripLocalData(string uri) => uri.StartsWith("local_data/", StringComparison.Ordinal) ? uri["local_data/".Length..] : uri;

    private static bool IsYaml(string path) => path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static string LabelOf(string path)
    {
        string name = Path.GetFileName(path);
        foreach (var extension in new[] { ".jsonl.gz", ".jsonl", ".json" })
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) return name[..^extension.Length];
        return name;
    }

    private sealed class SuiteFile
    {
        public List<SuiteTask>? IclTasks { get; set; }
    }

    private sealed class SuiteTask
    {
        public string? Label { get; set; }
        public string? DatasetUri { get; set; }
        public object? NumFewshot { get; set; }
        public string? IclTaskType { get; set; }
        public string? PromptString { get; set; }
        public string? Prelimiter { get; set; }
        public string? QuestionPrelimiter { get; set; }
        public bool? HasCategories { get; set; }
        public string? ExampleDelimiter { get; set; }
        public string? ContinuationDelimiter { get; set; }
        public bool? StripDataset { get; set; }
        public double? RandomBaseline { get; set; }
        public int? FewshotRandomSeed { get; set; }
        public List<string>? EarlyStoppingCriteria { get; set; }
        public string? CotDelimiter { get; set; }
        public bool? DoNormalization { get; set; }
        public int? GenerationsPerSample { get; set; }
        public object? PassAtK { get; set; }
        public float? Temperature { get; set; }
        public string? Infill { get; set; }
    }
}

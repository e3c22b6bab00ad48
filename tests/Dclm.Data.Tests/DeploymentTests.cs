using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Dclm.Data.Tests;

/// <summary>
/// The Dockerfile and the manifests that run its image (deploy/kubernetes/*.yaml, deploy/slurm/*.sbatch), checked
/// without Docker: the build stage gets every file the published projects need, the manifests parse, carry the
/// fields their schedulers require, agree with themselves (volumes, shard counts) and name the image the Dockerfile
/// builds. Every manifest in those folders is checked, including ones added later.
/// </summary>
public sealed class DeploymentTests
{
    private const string Published = "src/Dclm.Cli/Dclm.Cli.csproj";
    private static readonly DockerBuildContext Context = DockerBuildContext.OfRepository();

    /// <summary>The image the Dockerfile declares (its org.opencontainers.image.title label).</summary>
    private static string ImageName()
    {
        var match = Regex.Match(string.Join('\n', Context.Dockerfile), "org\\.opencontainers\\.image\\.title=\"([^\"]+)\"");
        Assert.True(match.Success, "the Dockerfile has no org.opencontainers.image.title label");
        return match.Groups[1].Value;
    }

    private static string Repository(string image) => Regex.Replace(image, ":[^/:]+$", "");

    [Fact]
    public void TheDockerfileBuildsTheCliInTwoStagesAndRunsItAsAnotherUser()
    {
        var stages = Context.Stages;
        Assert.Equal(2, stages.Count);
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/sdk:\S+ AS build$", stages[0]);
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/aspnet:\S+ AS runtime$", stages[1]);
        Assert.Contains(Context.StageLines("build"), l => l.StartsWith($"RUN dotnet publish {Published} -c Release -o /app/bin", StringComparison.Ordinal));
        var runtime = Context.StageLines("runtime");
        Assert.Contains("COPY --from=build /app/bin /app/bin", runtime);
        Assert.Contains("ENTRYPOINT [\"dclm\"]", runtime);
        Assert.Contains(runtime, l => l.StartsWith("RUN ln -s /app/bin/dclm /usr/local/bin/dclm", StringComparison.Ordinal));
        var user = Assert.Single(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotContain("root", user);
        Assert.True(runtime.IndexOf(user) > runtime.FindLastIndex(l => l.StartsWith("RUN ", StringComparison.Ordinal)), "USER comes after the last RUN that needs root");
        // The default model is found by walking up from the binaries (DefaultModel.Locate): /app/bin -> /app/models/default.
        Assert.Contains("COPY models/default/ /app/models/default/", runtime);
        // The tag the header's docker build command gives is the image the label names and the manifests run.
        Assert.Contains(Context.Dockerfile, l => l.Contains($"docker build -t {ImageName()}:latest .", StringComparison.Ordinal));
        Assert.Equal("dclmsharp/dclm", ImageName());
    }

    [Fact]
    public void EveryPathTheDockerfileCopiesIsInTheBuildContext()
    {
        foreach (var stage in new[] { "build", "runtime" })
        {
            var sources = Context.CopiedSources(stage);
            Assert.NotEmpty(sources);
            foreach (var source in sources)
            {
                string path = Path.Combine(Context.Root, source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY {source}: not in the repository");
                Assert.False(Context.IsIgnored(source), $"COPY {source}: excluded by .dockerignore");
            }
        }
        Assert.True(File.Exists(Path.Combine(Context.Root, "models", "default", "model.gguf")));
        // The build output of a developer's machine stays out of the context (it would overwrite obj/ in the image).
        Assert.True(Context.IsIgnored("src/Dclm.Cli/obj/project.assets.json"));
        Assert.True(Context.IsIgnored("src/Dclm.Data/bin/Release/net10.0/Dclm.Data.dll"));
        Assert.False(Context.IsIgnored("src/Dclm.Data/Dclm.Data.csproj"));
    }

    [Fact]
    public void TheBuildStageCopiesEveryFileThePublishedProjectsReach()
    {
        var copied = Context.CopiedSources("build");
        var reached = Context.FilesOutsideProjects(Published);
        // The projects reach each other and files of the repository (lid.176.ftz, the evaluation tasks).
        Assert.Contains(reached, r => r.Path.StartsWith("models", StringComparison.Ordinal));
        Assert.Contains(reached, r => r.Path.StartsWith("tasks", StringComparison.Ordinal));
        foreach (var (project, path) in reached)
            Assert.True(Context.IsInside(path, copied), $"{project} uses {path}, which the Dockerfile's build stage does not copy");
        // MSBuild and the SDK read these from the folders above every project.
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
            Assert.True(Context.IsInside(file, copied), $"the build stage does not copy {file}");
    }

    [Fact]
    public void KubernetesManifestsParseAndRunTheImage()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Context.Root, "deploy", "kubernetes"), "*.yaml").Order().ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            string name = Path.GetFileName(file);
            var stream = new YamlStream();
            using (var reader = new StreamReader(file)) stream.Load(reader);
            Assert.NotEmpty(stream.Documents);
            foreach (var document in stream.Documents)
            {
                var root = Assert.IsType<YamlMappingNode>(document.RootNode);
                foreach (var field in new[] { "apiVersion", "kind" }) Assert.False(string.IsNullOrEmpty(Scalar(root, field)), $"{name}: no {field}");
                Assert.False(string.IsNullOrEmpty(Scalar(Mapping(root, "metadata"), "name")), $"{name}: no metadata.name");
                switch (Scalar(root, "kind"))
                {
                    case "Service": CheckService(name, root, stream); continue;
                    case "HorizontalPodAutoscaler": CheckAutoscaler(name, root, stream); continue;
                    case "MPIJob": CheckMpiJob(name, root); continue;
                }
                var pods = PodSpecs(root).ToList();
                Assert.True(pods.Count > 0, $"{name}: no pod template");
                foreach (var pod in pods) CheckPod(name, pod);
                if (Scalar(root, "kind") == "Job") CheckJob(name, root);
                if (Scalar(root, "kind") == "Deployment") CheckServing(name, pods);
            }
        }
    }

    /// <summary>An MPIJob's launcher runs mpirun with as many ranks as the workers offer slots; workers host the ranks over SSH.</summary>
    private static void CheckMpiJob(string file, YamlMappingNode job)
    {
        var spec = Mapping(job, "spec");
        var replicas = Mapping(spec, "mpiReplicaSpecs");
        var launcher = PodSpecs(Mapping(replicas, "Launcher")).Single();
        CheckPod(file, launcher);
        var worker = Mapping(replicas, "Worker");
        var workerPod = PodSpecs(worker).Single();
        var line = CommandLine(Sequence(launcher, "containers").OfType<YamlMappingNode>().Single());
        var ranks = Regex.Match(line, @"^mpirun -np (\d+) .*\bdclm (train|finetune)\b");
        Assert.True(ranks.Success, $"{file}: the launcher runs '{line}', not mpirun -np N dclm train");
        int slots = int.Parse(Scalar(spec, "slotsPerWorker") ?? "1");
        Assert.Equal(int.Parse(Scalar(worker, "replicas")!) * slots, int.Parse(ranks.Groups[1].Value));
        foreach (var container in Sequence(workerPod, "containers").OfType<YamlMappingNode>())
        {
            Assert.Equal(ImageName(), Repository(Scalar(container, "image")!));
            Assert.StartsWith("/usr/sbin/sshd -De", CommandLine(container));
        }
        Assert.Equal("OpenMPI", Scalar(spec, "mpiImplementation"));
        Assert.StartsWith("/home/app/", Scalar(spec, "sshAuthMountPath")); // the Dockerfile's sshd reads its keys there
    }

    /// <summary>A serving Deployment runs dclm serve on all interfaces and is ready when /health answers on the port it serves.</summary>
    private static void CheckServing(string file, List<YamlMappingNode> pods)
    {
        foreach (var container in pods.SelectMany(p => Sequence(p, "containers").OfType<YamlMappingNode>()))
        {
            var line = CommandLine(container);
            if (!Regex.IsMatch(line, @"(^|\s)serve\s")) continue;
            Assert.Contains("--host 0.0.0.0", line);
            var port = Regex.Match(line, @"--port (\d+)").Groups[1].Value;
            var ports = Sequence(container, "ports").OfType<YamlMappingNode>().ToList();
            Assert.Contains(ports, p => Scalar(p, "containerPort") == port);
            var probe = Mapping(Mapping(container, "readinessProbe"), "httpGet");
            Assert.Equal("/health", Scalar(probe, "path"));
            Assert.Contains(ports, p => Scalar(p, "name") == Scalar(probe, "port") || Scalar(p, "containerPort") == Scalar(probe, "port"));
        }
    }

    /// <summary>A Service selects the pods of a Deployment in the same file.</summary>
    private static void CheckService(string file, YamlMappingNode service, YamlStream stream)
    {
        var selector = Mapping(Mapping(service, "spec"), "selector");
        var labels = Deployments(stream).Select(d => Mapping(Mapping(Mapping(Mapping(d, "spec"), "template"), "metadata"), "labels")).ToList();
        Assert.True(labels.Any(l => selector.Children.All(c => l.Children.TryGetValue(c.Key, out var v) && v.Equals(c.Value))), $"{file}: the Service selects no Deployment's pods");
    }

    /// <summary>An autoscaler scales a Deployment of the same file on a metric the server exports at /metrics.</summary>
    private static void CheckAutoscaler(string file, YamlMappingNode autoscaler, YamlStream stream)
    {
        var spec = Mapping(autoscaler, "spec");
        var target = Mapping(spec, "scaleTargetRef");
        Assert.Equal("Deployment", Scalar(target, "kind"));
        Assert.Contains(Scalar(target, "name"), Deployments(stream).Select(d => Scalar(Mapping(d, "metadata"), "name")));
        string exported = File.ReadAllText(Path.Combine(Context.Root, "src", "Dclm.Server", "Hosting", "ServerMetrics.cs"));
        var metrics = Sequence(spec, "metrics").OfType<YamlMappingNode>().ToList();
        Assert.NotEmpty(metrics);
        foreach (var metric in metrics)
        {
            string name = Scalar(Mapping(Mapping(metric, "pods"), "metric"), "name")!;
            Assert.True(exported.Contains($"\"{name}\"", StringComparison.Ordinal), $"{file}: the server exports no metric {name}");
        }
    }

    private static IEnumerable<YamlMappingNode> Deployments(YamlStream stream) =>
        stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().Where(r => Scalar(r, "kind") == "Deployment");

    private static void CheckPod(string file, YamlMappingNode pod)
    {
        var volumes = Sequence(pod, "volumes").OfType<YamlMappingNode>().Select(v => Scalar(v, "name")).ToHashSet();
        var containers = Sequence(pod, "containers").OfType<YamlMappingNode>().ToList();
        Assert.True(containers.Count > 0, $"{file}: a pod without containers");
        foreach (var container in containers.Concat(Sequence(pod, "initContainers").OfType<YamlMappingNode>()))
        {
            string name = Scalar(container, "name") ?? throw new Xunit.Sdk.XunitException($"{file}: a container without a name");
            string image = Scalar(container, "image") ?? throw new Xunit.Sdk.XunitException($"{file}: container {name} has no image");
            Assert.Equal(ImageName(), Repository(image));
            Assert.Matches(@"(^|\s)dclm\s", CommandLine(container));
            foreach (var mount in Sequence(container, "volumeMounts").OfType<YamlMappingNode>())
            {
                Assert.StartsWith("/", Scalar(mount, "mountPath"));
                Assert.True(volumes.Contains(Scalar(mount, "name")), $"{file}: container {name} mounts {Scalar(mount, "name")}, which the pod does not declare");
            }
        }
    }

    /// <summary>A Job restarts nothing itself, and an Indexed Job runs as many completions as its command has shards or partitions.</summary>
    private static void CheckJob(string file, YamlMappingNode job)
    {
        var spec = Mapping(job, "spec");
        Assert.Contains(Scalar(Mapping(Mapping(spec, "template"), "spec"), "restartPolicy"), new[] { "Never", "OnFailure" });
        var commands = PodSpecs(job).SelectMany(p => Sequence(p, "containers").OfType<YamlMappingNode>()).Select(CommandLine);
        foreach (Match split in commands.SelectMany(c => Regex.Matches(c, @"--(?:shard|partition) \$\{JOB_COMPLETION_INDEX\}/(\d+)")))
        {
            Assert.Equal("Indexed", Scalar(spec, "completionMode"));
            Assert.True(Scalar(spec, "completions") == split.Groups[1].Value, $"{file}: completions is {Scalar(spec, "completions")} but the command splits the work {split.Groups[1].Value} ways");
        }
    }

    [Fact]
    public void SlurmScriptsParseAndUseTheImage()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Context.Root, "deploy", "slurm"), "*.sbatch").Order().ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            string name = Path.GetFileName(file);
            var text = File.ReadAllText(file);
            Assert.StartsWith("#!/bin/bash", text);
            Assert.Matches(@"(?m)^#SBATCH --job-name=\S+", text);
            var image = Regex.Match(text, @"IMAGE=\$\{IMAGE:-([^}]+)\}");
            Assert.True(image.Success, $"{name}: no IMAGE default");
            Assert.Equal(ImageName(), Repository(image.Groups[1].Value));
            Assert.Matches(@"(?m)^(srun --mpi=pmix .*)?\$DCLM (data curate|train) ", text);
            // A job array's task count is the default the script splits the work by when Slurm does not say.
            var array = Regex.Match(text, @"(?m)^#SBATCH --array=0-(\d+)$");
            var ways = Regex.Match(text, @"(?m)^(?:SHARDS|PARTITIONS)=\$\{SLURM_ARRAY_TASK_COUNT:-(\d+)\}$");
            Assert.Equal(array.Success, ways.Success);
            if (array.Success) Assert.Equal(int.Parse(array.Groups[1].Value) + 1, int.Parse(ways.Groups[1].Value));
            using var bash = Process.Start(new ProcessStartInfo("bash", ["-n", file]) { RedirectStandardError = true })!;
            string errors = bash.StandardError.ReadToEnd();
            bash.WaitForExit();
            Assert.True(bash.ExitCode == 0, $"{name}: bash -n: {errors}");
        }
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static YamlMappingNode Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlMappingNode mapping
            ? mapping : throw new Xunit.Sdk.XunitException($"no mapping {key}");

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode list ? list : [];

    /// <summary>A container's command and args as one line.</summary>
    private static string CommandLine(YamlMappingNode container) =>
        string.Join(' ', Sequence(container, "command").Concat(Sequence(container, "args")).OfType<YamlScalarNode>().Select(s => s.Value));

    /// <summary>Every pod spec anywhere in the document (the spec beside "containers"): Jobs, Deployments, MPIJobs' launcher and workers…</summary>
    private static IEnumerable<YamlMappingNode> PodSpecs(YamlNode node)
    {
        if (node is YamlMappingNode mapping)
        {
            if (mapping.Children.ContainsKey(new YamlScalarNode("containers"))) { yield return mapping; yield break; }
            foreach (var value in mapping.Children.Values) foreach (var inner in PodSpecs(value)) yield return inner;
        }
        else if (node is YamlSequenceNode sequence)
            foreach (var item in sequence) foreach (var inner in PodSpecs(item)) yield return inner;
    }
}

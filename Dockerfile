# The `dclm` command line as a container image: the image deploy/kubernetes and deploy/slurm run.
#
#   docker build -t dclmsharp/dclm:latest .
#   docker run --rm -v "$PWD/data:/data" dclmsharp/dclm:latest data curate --input /data/raw/warc --output /data/curated
#   docker run --rm -p 8080:8080 dclmsharp/dclm:latest serve --host 0.0.0.0 --port 8080
#
# Stage 1 publishes src/Dclm.Cli with the .NET SDK; stage 2 is the ASP.NET Core runtime (for `dclm serve`) with
# Python (the sandbox of `dclm eval`'s HumanEval), fontconfig (the report plots), Open MPI and SSH (data-parallel training), the built-in default model,
# the pipeline configs and the evaluation tasks. The data pipeline's models (lid.176.ftz) are inside the binaries.

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
COPY models/lid.176/ models/lid.176/
COPY tasks/ tasks/
RUN dotnet publish src/Dclm.Cli/Dclm.Cli.csproj -c Release -o /app/bin --nologo

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
LABEL org.opencontainers.image.title="dclmsharp/dclm" \
      org.opencontainers.image.description="DclmSharp: curate, train, evaluate and serve DCLM-style language models without Python"
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 libfontconfig1 fonts-dejavu-core openmpi-bin openssh-client openssh-server \
 && rm -rf /var/lib/apt/lists/*
# Data-parallel training (deploy/kubernetes/train-mpijob.yaml): mpirun reaches the worker pods over SSH on port 2222,
# where sshd runs as the unprivileged app user with the keys the MPI Operator mounts in /home/app/.ssh.
RUN printf 'Host *\n    Port 2222\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n' >> /etc/ssh/ssh_config \
 && mkdir -p /home/app \
 && printf 'Port 2222\nPidFile /home/app/sshd.pid\nHostKey /home/app/.ssh/id_rsa\nStrictModes no\nUsePAM no\n' > /home/app/.sshd_config \
 && chown -R app:app /home/app
COPY --from=build /app/bin /app/bin
COPY configs/ /app/configs/
COPY models/default/ /app/models/default/
RUN ln -s /app/bin/dclm /usr/local/bin/dclm && mkdir /data && chown app:app /data
USER app
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["dclm"]
CMD ["--help"]

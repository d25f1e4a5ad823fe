# syntax=docker/dockerfile:1
# The reward server image. Build context: deploy/docker/build/reward-server, made by
#   deploy/docker/stage.sh reward-server            (CPU: com.microsoft.onnxruntime:onnxruntime)
#   deploy/docker/stage.sh reward-server -Pgpu      (GPU: onnxruntime_gpu, CUDA execution provider)
# CPU (default target):
#   docker build -f deploy/docker/reward-server.Dockerfile -t ncalign/reward-server:0.1.0 deploy/docker/build/reward-server
# GPU (after staging with -Pgpu; ONNX Runtime 1.23 needs the CUDA 12 and cuDNN 9 libraries, which the
# nvidia/cuda base image has; the JRE is copied in from the Temurin image):
#   docker build --target gpu -f deploy/docker/reward-server.Dockerfile -t ncalign/reward-server:0.1.0-gpu deploy/docker/build/reward-server
# Not built by CI (no Docker there).
ARG JAVA_IMAGE=eclipse-temurin:17-jre-jammy
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

FROM ${JAVA_IMAGE} AS jre

FROM ${CUDA_IMAGE} AS gpu
COPY --from=jre /opt/java/openjdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:$PATH
RUN groupadd --system --gid 10001 ncalign \
 && useradd --system --uid 10001 --gid ncalign --create-home --home-dir /home/ncalign ncalign
COPY app/ /opt/ncalign/app/
COPY lib/ /opt/ncalign/lib/
COPY classpath.args /opt/ncalign/classpath.args
ENV DJL_CACHE_DIR=/home/ncalign/.djl.ai DJL_OFFLINE=true
USER 10001:10001
WORKDIR /home/ncalign
EXPOSE 50052 9090
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-Xss4m", "-XX:MaxRAMPercentage=75", "@/opt/ncalign/classpath.args", "dev.ncalign.reward.Main"]
CMD ["--help"]

# Last stage = the default target: the CPU image.
FROM ${JAVA_IMAGE} AS cpu
RUN groupadd --system --gid 10001 ncalign \
 && useradd --system --uid 10001 --gid ncalign --create-home --home-dir /home/ncalign ncalign
COPY app/ /opt/ncalign/app/
COPY lib/ /opt/ncalign/lib/
COPY classpath.args /opt/ncalign/classpath.args
# The tokenizer's native library (DJL) is unpacked here, ONNX Runtime's into /tmp: the manifests mount
# emptyDirs on both so the root file system can stay read-only.
ENV DJL_CACHE_DIR=/home/ncalign/.djl.ai DJL_OFFLINE=true
USER 10001:10001
WORKDIR /home/ncalign
EXPOSE 50052 9090
# -Dai.djl.offline=true as reward-server/bin/reward-server runs it. JAVA_TOOL_OPTIONS adds JVM flags.
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-Xss4m", "-XX:MaxRAMPercentage=75", "@/opt/ncalign/classpath.args", "dev.ncalign.reward.Main"]
CMD ["--help"]

# syntax=docker/dockerfile:1
# The policy server image. Build context: deploy/docker/build/policy-server, made by
#   deploy/docker/stage.sh policy-server
# CPU (default target):
#   docker build -f deploy/docker/policy-server.Dockerfile -t ncalign/policy-server:0.1.0 deploy/docker/build/policy-server
# GPU: unpack a CUDA 12.8 libtorch 2.7.1 (the "shared-with-deps" zip, cxx11 ABI, from
# pytorch.org; it carries the CUDA runtime libraries) in deploy/docker/build/policy-server, after stage.sh (which
# empties that directory): it unpacks to libtorch/. Then
#   docker build --target gpu -f deploy/docker/policy-server.Dockerfile -t ncalign/policy-server:0.1.0-gpu deploy/docker/build/policy-server
# The version must be 2.7.1: the JNI glue (ai.djl.pytorch:pytorch-jni 2.7.1-0.36.0, cpu and cu128 builds)
# is on the class path. Not built by CI (no Docker there).
ARG JAVA_IMAGE=eclipse-temurin:17-jre-jammy

FROM ${JAVA_IMAGE} AS base
RUN groupadd --system --gid 10001 ncalign \
 && useradd --system --uid 10001 --gid ncalign --create-home --home-dir /home/ncalign ncalign
COPY app/ /opt/ncalign/app/
COPY lib/ /opt/ncalign/lib/
COPY classpath.args /opt/ncalign/classpath.args
# libtorch (from the pytorch-native-cpu jar) and the tokenizer's native library are unpacked here on first
# start; the manifests mount an emptyDir on it so the root file system can stay read-only.
ENV DJL_CACHE_DIR=/home/ncalign/.djl.ai \
    DJL_OFFLINE=true \
    TORCH_CPP_LOG_LEVEL=ERROR
USER 10001:10001
WORKDIR /home/ncalign
EXPOSE 50051 9090
# -Dai.djl.offline=true: a missing native library fails at once instead of trying to download (as
# ./ncalign and policy-server/bin/policy-server run it). JAVA_TOOL_OPTIONS adds JVM flags.
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-Xss4m", "-XX:MaxRAMPercentage=75", "@/opt/ncalign/classpath.args", "dev.ncalign.policy.Main"]
CMD ["--help"]

FROM base AS gpu
COPY libtorch/ /opt/libtorch/
# DJL loads this libtorch instead of the CPU one from the jar, with the cu128 JNI library from pytorch-jni.
ENV PYTORCH_LIBRARY_PATH=/opt/libtorch/lib \
    PYTORCH_VERSION=2.7.1 \
    PYTORCH_FLAVOR=cu128

# Last stage = the default target: the CPU image.
FROM base AS cpu

// The Kubernetes objects `berth convert` writes: only the fields it sets, with the API's own
// names. `types.test.ts` checks at compile time that every key here is a key of the matching
// `kubernetes-models` interface, so a misspelt field cannot reach the output.

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Labels;
}

export interface KeyToPath { key: string; path: string; mode?: number }

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number };
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number };
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
}

export interface VolumeMount { name: string; mountPath: string; subPath?: string; readOnly?: boolean }

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export interface ContainerPort { containerPort: number; protocol?: string; name?: string }

export interface Probe {
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
  initialDelaySeconds?: number;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string; localhostProfile?: string };
  appArmorProfile?: { type: string; localhostProfile?: string };
  seLinuxOptions?: { user?: string; role?: string; type?: string; level?: string };
}

export interface ResourceRequirements { limits?: Record<string, string>; requests?: Record<string, string> }

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  resources?: ResourceRequirements;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: SecurityContext;
  tty?: boolean;
  stdin?: boolean;
}

export interface PodSecurityContext {
  sysctls?: { name: string; value: string }[];
  supplementalGroups?: number[];
}

export interface PodSpec {
  serviceAccountName?: string;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  hostname?: string;
  hostAliases?: { ip: string; hostnames: string[] }[];
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  hostPID?: boolean;
  hostIPC?: boolean;
  shareProcessNamespace?: boolean;
  nodeSelector?: Labels;
  securityContext?: PodSecurityContext;
}

export interface PodTemplateSpec { metadata: { labels: Labels; annotations?: Labels }; spec: PodSpec }

export interface LabelSelector { matchLabels: Labels }

export interface Deployment {
  apiVersion: 'apps/v1'; kind: 'Deployment'; metadata: ObjectMeta;
  spec: { replicas: number; selector: LabelSelector; strategy?: { type: string }; template: PodTemplateSpec };
}
export interface StatefulSet {
  apiVersion: 'apps/v1'; kind: 'StatefulSet'; metadata: ObjectMeta;
  spec: { replicas: number; serviceName: string; selector: LabelSelector; template: PodTemplateSpec };
}
export interface DaemonSet {
  apiVersion: 'apps/v1'; kind: 'DaemonSet'; metadata: ObjectMeta;
  spec: { selector: LabelSelector; template: PodTemplateSpec };
}
export interface Job {
  apiVersion: 'batch/v1'; kind: 'Job'; metadata: ObjectMeta;
  spec: { completions?: number; parallelism?: number; backoffLimit: number; template: PodTemplateSpec };
}

export interface ServicePort { name?: string; port: number; targetPort?: number; protocol?: string; nodePort?: number; appProtocol?: string }
export interface Service {
  apiVersion: 'v1'; kind: 'Service'; metadata: ObjectMeta;
  spec: { type?: string; clusterIP?: string; selector: Labels; ports?: ServicePort[]; publishNotReadyAddresses?: boolean };
}

export interface PersistentVolumeClaim {
  apiVersion: 'v1'; kind: 'PersistentVolumeClaim'; metadata: ObjectMeta;
  spec: { accessModes: string[]; resources: { requests: { storage: string } }; storageClassName?: string };
}

export interface ConfigMap { apiVersion: 'v1'; kind: 'ConfigMap'; metadata: ObjectMeta; data?: Labels; binaryData?: Labels }
export interface Secret { apiVersion: 'v1'; kind: 'Secret'; metadata: ObjectMeta; type: string; data: Labels }
export interface Namespace { apiVersion: 'v1'; kind: 'Namespace'; metadata: ObjectMeta }
export interface ServiceAccount { apiVersion: 'v1'; kind: 'ServiceAccount'; metadata: ObjectMeta }

export interface PolicyRule { apiGroups: string[]; resources: string[]; verbs: string[] }
export interface Role { apiVersion: 'rbac.authorization.k8s.io/v1'; kind: 'Role'; metadata: ObjectMeta; rules: PolicyRule[] }
export interface RoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1'; kind: 'RoleBinding'; metadata: ObjectMeta;
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}

export interface NetworkPolicyPeer { podSelector?: LabelSelector | Record<string, never>; ipBlock?: { cidr: string } }
export interface NetworkPolicy {
  apiVersion: 'networking.k8s.io/v1'; kind: 'NetworkPolicy'; metadata: ObjectMeta;
  spec: {
    podSelector: LabelSelector;
    policyTypes: string[];
    ingress: { from?: NetworkPolicyPeer[]; ports?: { port: number; protocol: string }[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: { port: number; protocol: string }[] }[];
  };
}

export type Workload = Deployment | StatefulSet | DaemonSet | Job;
export type KubeObject = Workload | Service | PersistentVolumeClaim | ConfigMap | Secret | Namespace | ServiceAccount | Role | RoleBinding | NetworkPolicy;
export type Kind = KubeObject['kind'];
